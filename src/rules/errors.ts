import { UserInputError } from '../workspace/errors.js';
import type { Source, SourceLocation } from './source.js';

/**
 * A syntax or meaning error in a rule file. `message` reads `name:line:column: text`;
 * {@link formatRuleError} adds the source line and a caret under the offending text.
 * It is a {@link UserInputError}, so tools report it to the caller as bad input.
 */
export class RuleError extends UserInputError {
  readonly location: SourceLocation;

  constructor(
    readonly source: Source,
    /** Character offset where the offending text starts. */
    readonly start: number,
    /** Character offset just past the offending text; equal to `start` at the end of input. */
    readonly end: number,
    /** The message without its location prefix. */
    readonly description: string,
  ) {
    const location = source.locationOf(start);
    super(`${source.name}:${location.line}:${location.column}: ${description}`);
    this.name = 'RuleError';
    this.location = location;
  }
}

/**
 * Renders an error as its `name:line:column: message` line, then the source line, then a
 * caret line that marks the offending text (`^` per character, at least one).
 */
export function formatRuleError(error: RuleError): string {
  const { line, column } = error.location;
  const text = error.source.lineText(line);
  const padding = text.slice(0, column - 1).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(error.end - error.start, text.length - column + 1));
  return `${error.message}\n${text}\n${padding}${'^'.repeat(width)}`;
}

/** Renders several errors, separated by blank lines. */
export function formatRuleErrors(errors: readonly RuleError[]): string {
  return errors.map(formatRuleError).join('\n\n');
}
