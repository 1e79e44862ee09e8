import { RuleError } from './errors.js';
import type { Source } from './source.js';

export type Punctuator =
  | '{' | '}' | '(' | ')' | '[' | ']' | ',' | ':' | '.'
  | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/';

export type TokenKind = 'Name' | 'String' | 'Number' | 'EOF' | Punctuator;

/**
 * One token. `start` and `end` are character offsets into the source body. For a
 * `String` token `value` is the decoded text; for a `Number` token it is the digits as
 * written, and `percent` is true when a `%` followed them.
 */
export interface Token {
  readonly kind: TokenKind;
  readonly start: number;
  readonly end: number;
  readonly value: string;
  readonly percent?: boolean;
}

const SINGLE_PUNCTUATORS = new Set(['{', '}', '(', ')', '[', ']', ',', ':', '.', '+', '-', '*', '/']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t' };

/** Describes a token for messages: `name "foo"`, `string "x"`, `number 5`, `"{"`, `end of input`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'EOF':
      return 'end of input';
    case 'Name':
      return `name "${token.value}"`;
    case 'String':
      return `string ${JSON.stringify(token.value)}`;
    case 'Number':
      return `number ${token.value}${token.percent ? '%' : ''}`;
    default:
      return `"${token.kind}"`;
  }
}

/**
 * Splits a rule source into tokens. Whitespace, `# …` and `// …` comments are skipped.
 * Reading is lazy: the parser pulls one token at a time with {@link Lexer.advance}.
 */
export class Lexer {
  private position = 0;
  token: Token;

  constructor(readonly source: Source) {
    this.token = this.readToken();
  }

  /** Moves to the next token and returns it. */
  advance(): Token {
    if (this.token.kind !== 'EOF') this.token = this.readToken();
    return this.token;
  }

  /** Returns the token after the current one without consuming anything. */
  lookahead(): Token {
    const saved = this.position;
    const next = this.token.kind === 'EOF' ? this.token : this.readToken();
    this.position = saved;
    return next;
  }

  private readToken(): Token {
    this.skipIgnored();
    const body = this.source.body;
    const start = this.position;
    if (start >= body.length) return { kind: 'EOF', start, end: start, value: '' };

    const char = body[start];
    if (isNameStart(char)) return this.readName(start);
    if (isDigit(char)) return this.readNumber(start);
    if (char === '"') return this.readString(start);

    const pair = body.slice(start, start + 2);
    if (pair === '==' || pair === '!=' || pair === '<=' || pair === '>=') {
      this.position = start + 2;
      return { kind: pair === '==' ? '=' : pair, start, end: start + 2, value: pair };
    }
    if (char === '=' || char === '<' || char === '>' || SINGLE_PUNCTUATORS.has(char)) {
      this.position = start + 1;
      return { kind: char as Punctuator, start, end: start + 1, value: char };
    }
    throw this.unexpectedCharacter(start);
  }

  private skipIgnored(): void {
    const body = this.source.body;
    while (this.position < body.length) {
      const char = body[this.position];
      if (char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\uFEFF') {
        this.position++;
      } else if (char === '#' || body.startsWith('//', this.position)) {
        while (this.position < body.length && body[this.position] !== '\n' && body[this.position] !== '\r') {
          this.position++;
        }
      } else {
        return;
      }
    }
  }

  private readName(start: number): Token {
    const body = this.source.body;
    let end = start + 1;
    while (end < body.length && isNameContinue(body[end])) end++;
    this.position = end;
    return { kind: 'Name', start, end, value: body.slice(start, end) };
  }

  /** Number: digits, an optional fraction, and an optional `%` right after them. */
  private readNumber(start: number): Token {
    const body = this.source.body;
    let end = start;
    while (end < body.length && isDigit(body[end])) end++;
    if (body[end] === '.' && isDigit(body[end + 1] ?? '')) {
      end++;
      while (end < body.length && isDigit(body[end])) end++;
    }
    const digits = body.slice(start, end);
    let percent = false;
    if (body[end] === '%') {
      percent = true;
      end++;
    }
    if (end < body.length && (isNameContinue(body[end]) || body[end] === '.')) {
      throw new RuleError(
        this.source, start, end + 1,
        `Invalid number "${body.slice(start, end + 1)}": a number must be followed by a space, an operator or a bracket.`,
      );
    }
    this.position = end;
    return { kind: 'Number', start, end, value: digits, percent };
  }

  /** String: double quotes, on one line, with the escapes \" \\ \n and \t. */
  private readString(start: number): Token {
    const body = this.source.body;
    let value = '';
    let position = start + 1;
    while (position < body.length) {
      const char = body[position];
      if (char === '"') {
        this.position = position + 1;
        return { kind: 'String', start, end: position + 1, value };
      }
      if (char === '\n' || char === '\r') break;
      if (char === '\\') {
        const escaped = ESCAPES[body[position + 1] ?? ''];
        if (escaped === undefined) {
          throw new RuleError(
            this.source, position, position + 2,
            `Invalid escape sequence "${body.slice(position, position + 2)}" in a string; the escapes are \\", \\\\, \\n and \\t.`,
          );
        }
        value += escaped;
        position += 2;
        continue;
      }
      value += char;
      position++;
    }
    throw new RuleError(this.source, start, position, 'Unterminated string: add the closing " on the same line.');
  }

  private unexpectedCharacter(offset: number): RuleError {
    const char = String.fromCodePoint(this.source.body.codePointAt(offset) ?? 0);
    const shown = /^[\x20-\x7e]$/.test(char) ? `"${char}"` : `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const hint =
      char === "'" ? ' Strings are written in double quotes.'
        : char === ';' ? ' Rules need no semicolons.'
          : char === '&' || char === '|' ? ' Write AND or OR.'
            : char === '!' ? ' Write NOT, or != for "not equal".'
              : '';
    return new RuleError(this.source, offset, offset + char.length, `Unexpected character ${shown}.${hint}`);
  }
}

function isNameStart(char: string): boolean {
  return (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || char === '_';
}

function isNameContinue(char: string): boolean {
  return isNameStart(char) || isDigit(char);
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}
