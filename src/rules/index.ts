/**
 * The segment rule language: `parseRules` → `checkSegment` → `compileSegment`, and
 * `printSegment` back to canonical source. The grammar and every function are described
 * in docs/rules.md.
 */
export { Source } from './source.js';
export { RuleError, formatRuleError, formatRuleErrors } from './errors.js';
export { Lexer } from './lexer.js';
export type { Token, TokenKind } from './lexer.js';
export { parseRules, MAX_NESTING, MAX_OPERATORS } from './parser.js';
export { checkSegment, checkSegments, MAX_NUMBER } from './checker.js';
export type { CheckContext } from './checker.js';
export { compileSegment } from './compiler.js';
export type { CompileContext, CompiledSegment } from './compiler.js';
export { printSegment, printSegments, printExpression } from './printer.js';
export * as catalog from './catalog.js';
export {
  ATTRIBUTES,
  CONSTANTS,
  EVENT_FUNCTIONS,
  EVENT_SHORTHAND,
  REFRESH_CADENCES,
  MAX_WINDOW_DAYS,
} from './catalog.js';
export type * from './ast.js';
