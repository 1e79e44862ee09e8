import type {
  ArithmeticOperator,
  ComparisonOperator,
  ExpressionNode,
  FieldNode,
  ListNode,
  Loc,
  NameNode,
  ReferenceNode,
  SegmentNode,
  StringLiteralNode,
  WindowNode,
  WindowUnit,
} from './ast.js';
import { RuleError } from './errors.js';
import { Lexer, describeToken, type Token, type TokenKind } from './lexer.js';
import { Source } from './source.js';
import { didYouMean, suggestionList } from './suggest.js';

/** Field names a segment body may contain. */
export const SEGMENT_FIELDS = ['conditions', 'refresh', 'description', 'action'] as const;

/** Deepest nesting of brackets, NOT and unary minus the parser accepts; deeper input is rejected, not a stack overflow. */
export const MAX_NESTING = 64;

/**
 * Most binary operators one conditions block may hold. Later stages walk the tree
 * recursively, and a left-leaning chain of about 20,000 ANDs exhausts Node's default stack.
 */
export const MAX_OPERATORS = 1000;

const WINDOW_PATTERN = /^(last|previous)_(\d+)_(day|week|month)s?$/;
const CALENDAR_WINDOWS: Record<string, WindowUnit> = { this_week: 'week', this_month: 'month' };
const COMPARISON_OPERATORS = new Set<TokenKind>(['=', '!=', '<', '<=', '>', '>=']);

/**
 * Parses a rule file into its segments. Throws a {@link RuleError} at the first syntax
 * error; meaning (unknown names, types, ranges) is left to the checker.
 */
export function parseRules(source: string | Source, name?: string): readonly SegmentNode[] {
  const input = typeof source === 'string' ? new Source(source, name) : source;
  return new Parser(input).parseDocument();
}

/** Creates the "Expected X, found Y." error at `token`. */
export function expectedFound(source: Source, token: Token, expected: string): RuleError {
  return new RuleError(source, token.start, token.end, `Expected ${expected}, found ${describeToken(token)}.`);
}

/** A recursive-descent parser with one method per grammar rule (see docs/rules.md). */
class Parser {
  private readonly lexer: Lexer;
  private lastEnd = 0;
  private depth = 0;
  private operators = 0;

  constructor(private readonly source: Source) {
    this.lexer = new Lexer(source);
  }

  /** Document = { Segment } EOF */
  parseDocument(): readonly SegmentNode[] {
    const segments: SegmentNode[] = [];
    while (this.peek().kind !== 'EOF') segments.push(this.parseSegment());
    return segments;
  }

  /** Segment = "segment" String "{" { Field } "}" */
  parseSegment(): SegmentNode {
    const start = this.peek().start;
    this.expectKeyword('segment', '"segment"');
    const name = this.parseStringLiteral('the segment name in double quotes');
    this.expect('{');
    const fields: FieldNode[] = [];
    while (this.peek().kind !== '}') fields.push(this.parseField(name.value));
    this.expect('}');
    return { kind: 'Segment', name, fields, source: this.source, loc: this.loc(start) };
  }

  /**
   * Field = "conditions" "{" Expression "}"
   *       | "refresh" ":" Name
   *       | ( "description" | "action" ) ":" String
   */
  parseField(segmentName: string): FieldNode {
    const token = this.peek();
    if (token.kind !== 'Name') throw expectedFound(this.source, token, 'a field (conditions, refresh, description, action) or "}"');

    switch (token.value) {
      case 'conditions': {
        this.advance();
        this.expect('{');
        this.operators = 0;
        const expression = this.parseExpression();
        this.expect('}');
        return { kind: 'ConditionsField', expression, loc: this.loc(token.start) };
      }
      case 'refresh': {
        this.advance();
        this.expect(':');
        const value = this.parseName('a refresh cadence (daily, weekly or monthly)');
        return { kind: 'RefreshField', value, loc: this.loc(token.start) };
      }
      case 'description':
      case 'action': {
        this.advance();
        this.expect(':');
        const value = this.parseStringLiteral(`the ${token.value} text in double quotes`);
        return { kind: 'TextField', field: token.value, value, loc: this.loc(token.start) };
      }
      default:
        throw new RuleError(
          this.source, token.start, token.end,
          `Unknown field "${token.value}" in segment "${segmentName}"; the fields are conditions, refresh, description and action.` +
            didYouMean(suggestionList(token.value, SEGMENT_FIELDS)),
        );
    }
  }

  /** Expression = OrExpression */
  parseExpression(): ExpressionNode {
    return this.parseOr();
  }

  /** OrExpression = AndExpression { "OR" AndExpression } */
  parseOr(): ExpressionNode {
    let left = this.parseAnd();
    while (this.isKeyword('OR')) {
      this.countOperator();
      const right = this.parseAnd();
      left = { kind: 'Logical', operator: 'OR', left, right, loc: this.loc(left.loc.start) };
    }
    return left;
  }

  /** AndExpression = NotExpression { "AND" NotExpression } */
  parseAnd(): ExpressionNode {
    let left = this.parseNot();
    while (this.isKeyword('AND')) {
      this.countOperator();
      const right = this.parseNot();
      left = { kind: 'Logical', operator: 'AND', left, right, loc: this.loc(left.loc.start) };
    }
    return left;
  }

  /** NotExpression = "NOT" NotExpression | Comparison */
  parseNot(): ExpressionNode {
    if (!this.isKeyword('NOT')) return this.parseComparison();
    const start = this.advance().start;
    const operand = this.nested(() => this.parseNot());
    return { kind: 'Not', operand, loc: this.loc(start) };
  }

  /** Comparison = Additive [ ( "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" ) Additive ] */
  parseComparison(): ExpressionNode {
    const left = this.parseAdditive();
    const token = this.peek();
    if (!COMPARISON_OPERATORS.has(token.kind)) return left;
    this.countOperator();
    const right = this.parseAdditive();
    const operator = token.kind as ComparisonOperator;
    return { kind: 'Comparison', operator, left, right, loc: this.loc(left.loc.start) };
  }

  /** Additive = Multiplicative { ( "+" | "-" ) Multiplicative } */
  parseAdditive(): ExpressionNode {
    let left = this.parseMultiplicative();
    while (this.peek().kind === '+' || this.peek().kind === '-') {
      const operator = this.countOperator().kind as ArithmeticOperator;
      const right = this.parseMultiplicative();
      left = { kind: 'Arithmetic', operator, left, right, loc: this.loc(left.loc.start) };
    }
    return left;
  }

  /** Multiplicative = Unary { ( "*" | "/" ) Unary } */
  parseMultiplicative(): ExpressionNode {
    let left = this.parseUnary();
    while (this.peek().kind === '*' || this.peek().kind === '/') {
      const operator = this.countOperator().kind as ArithmeticOperator;
      const right = this.parseUnary();
      left = { kind: 'Arithmetic', operator, left, right, loc: this.loc(left.loc.start) };
    }
    return left;
  }

  /** Unary = "-" Unary | Primary */
  parseUnary(): ExpressionNode {
    if (this.peek().kind !== '-') return this.parsePrimary();
    const start = this.advance().start;
    const operand = this.nested(() => this.parseUnary());
    return { kind: 'Negate', operand, loc: this.loc(start) };
  }

  /**
   * Primary = Number | String | "true" | "false" | Window
   *         | "(" Expression ")" | Reference [ Arguments ]
   */
  parsePrimary(): ExpressionNode {
    const token = this.peek();
    switch (token.kind) {
      case 'Number': {
        this.advance();
        const value = Number(token.value) / (token.percent ? 100 : 1);
        return { kind: 'NumberLiteral', raw: token.value, percent: token.percent === true, value, loc: this.loc(token.start) };
      }
      case 'String':
        return this.parseStringLiteral('a string');
      case '(': {
        this.advance();
        const inner = this.nested(() => this.parseExpression());
        this.expect(')');
        return inner;
      }
      case 'Name':
        break;
      default:
        throw expectedFound(this.source, token, 'an expression');
    }

    const upper = token.value.toUpperCase();
    if (upper === 'AND' || upper === 'OR' || upper === 'NOT') throw expectedFound(this.source, token, 'an expression');
    if (upper === 'TRUE' || upper === 'FALSE') {
      this.advance();
      return { kind: 'BooleanLiteral', value: upper === 'TRUE', loc: this.loc(token.start) };
    }
    const next = this.lexer.lookahead().kind;
    if (next !== '.' && next !== '(') {
      const window = this.parseWindow();
      if (window) return window;
    }

    const callee = this.parseReference();
    if (this.peek().kind !== '(') return callee;
    const args = this.parseArguments();
    return { kind: 'Call', callee, args, loc: this.loc(callee.loc.start) };
  }

  /** Window = "last_" Digits "_" Unit | "previous_" Digits "_" Unit | "this_week" | "this_month" */
  parseWindow(): WindowNode | undefined {
    const token = this.peek();
    const calendarUnit = Object.hasOwn(CALENDAR_WINDOWS, token.value) ? CALENDAR_WINDOWS[token.value] : undefined;
    if (calendarUnit) {
      this.advance();
      return { kind: 'Window', relation: 'this', count: 1, unit: calendarUnit, loc: this.loc(token.start) };
    }
    const match = WINDOW_PATTERN.exec(token.value);
    if (!match) return undefined;
    this.advance();
    const relation = match[1] as 'last' | 'previous';
    return { kind: 'Window', relation, count: Number(match[2]), unit: match[3] as WindowUnit, loc: this.loc(token.start) };
  }

  /** Reference = Name { "." Name } */
  parseReference(): ReferenceNode {
    const path: NameNode[] = [this.parseName('a name')];
    while (this.peek().kind === '.') {
      this.advance();
      path.push(this.parseName('a name after "."'));
    }
    return { kind: 'Reference', path, loc: this.loc(path[0].loc.start) };
  }

  /** Arguments = "(" [ Argument { "," Argument } ] ")" ; Argument = List | Expression */
  parseArguments(): ExpressionNode[] {
    this.expect('(');
    const args: ExpressionNode[] = [];
    if (this.peek().kind !== ')') {
      do {
        args.push(this.peek().kind === '[' ? this.parseList() : this.nested(() => this.parseExpression()));
      } while (this.skip(','));
    }
    this.expect(')');
    return args;
  }

  /** List = "[" [ Expression { "," Expression } ] "]" */
  parseList(): ListNode {
    const start = this.expect('[').start;
    const items: ExpressionNode[] = [];
    if (this.peek().kind !== ']') {
      do items.push(this.nested(() => this.parseExpression()));
      while (this.skip(','));
    }
    this.expect(']');
    return { kind: 'List', items, loc: this.loc(start) };
  }

  private parseStringLiteral(expected: string): StringLiteralNode {
    const token = this.peek();
    if (token.kind !== 'String') throw expectedFound(this.source, token, expected);
    this.advance();
    return { kind: 'StringLiteral', value: token.value, loc: this.loc(token.start) };
  }

  private parseName(expected: string): NameNode {
    const token = this.peek();
    if (token.kind !== 'Name') throw expectedFound(this.source, token, expected);
    this.advance();
    return { kind: 'Name', value: token.value, loc: this.loc(token.start) };
  }

  // Helpers.

  private peek(): Token {
    return this.lexer.token;
  }

  private advance(): Token {
    const token = this.lexer.token;
    this.lastEnd = token.end;
    this.lexer.advance();
    return token;
  }

  private expect(kind: TokenKind): Token {
    const token = this.peek();
    if (token.kind !== kind) throw expectedFound(this.source, token, `"${kind}"`);
    return this.advance();
  }

  private skip(kind: TokenKind): boolean {
    if (this.peek().kind !== kind) return false;
    this.advance();
    return true;
  }

  private isKeyword(keyword: string): boolean {
    const token = this.peek();
    return token.kind === 'Name' && token.value.toUpperCase() === keyword;
  }

  private expectKeyword(keyword: string, expected: string): void {
    const token = this.peek();
    if (token.kind !== 'Name' || token.value !== keyword) throw expectedFound(this.source, token, expected);
    this.advance();
  }

  /** Consumes a binary operator, rejecting the conditions block once it holds too many. */
  private countOperator(): Token {
    if (++this.operators > MAX_OPERATORS) {
      const token = this.peek();
      throw new RuleError(
        this.source, token.start, token.end,
        `Conditions hold more than ${MAX_OPERATORS} operators; split the rule into several segments.`,
      );
    }
    return this.advance();
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_NESTING) {
      const token = this.peek();
      throw new RuleError(
        this.source, token.start, token.end,
        `Expression is nested more than ${MAX_NESTING} levels deep; split it into simpler conditions.`,
      );
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private loc(start: number): Loc {
    return { start, end: this.lastEnd };
  }
}
