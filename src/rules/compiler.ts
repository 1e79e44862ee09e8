import { UserInputError } from '../workspace/errors.js';
import { quoteIdent } from '../workspace/workspace.js';
import type { AstVisitor, ExpressionNode, NodeOfKind, SegmentNode, WindowNode } from './ast.js';
import { visit } from './ast.js';
import { TABLE_ALIASES, type ArgValue, type AttributeEntry, type EventSql, type SourceTable, type Span } from './catalog.js';
import { argumentValue, checkSegment, isIsoDate, resolveAttribute, resolveCall, windowDays, type CheckContext } from './checker.js';

export interface CompileContext extends CheckContext {
  /** The as-of boundary T as a date, `YYYY-MM-DD`: the first day the windows do NOT include. */
  readonly asOf: string;
  /** Event names that are not features (logins, page views); `unique_features_used` skips them. */
  readonly nonFeatureEvents?: readonly string[];
}

/** One SQL statement and its positional parameters (`$1`, `$2`, … in order of first use). */
export interface CompiledSegment {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * Compiles a segment into one SELECT that returns the `user_id` of every member, sorted.
 * It reads `user_metrics` (the population) and, when the rule needs them, `users`,
 * `user_scores` and one grouped pass over `event_facts`. Every value taken from the rule
 * text is a bound parameter. Throws the first {@link RuleError} when the segment does
 * not check; call {@link checkSegment} to get all of them.
 */
export function compileSegment(segment: SegmentNode, context: CompileContext): CompiledSegment {
  const errors = checkSegment(segment, context);
  if (errors.length > 0) throw errors[0];
  if (!isIsoDate(context.asOf)) {
    throw new UserInputError(`Invalid as-of date "${context.asOf}"; write it as YYYY-MM-DD.`);
  }

  const conditions = segment.fields.find((field) => field.kind === 'ConditionsField');
  if (conditions?.kind !== 'ConditionsField') throw new Error('Internal error: a checked segment has conditions.');
  const compiler = new SqlCompiler(context);
  const predicate = compiler.expression(conditions.expression);
  return compiler.statement(predicate);
}

const COMPARISON_SQL = { '=': '=', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' } as const;

/**
 * Tells whether an expression can be NULL: attributes can (a user without a plan or a score),
 * and so can a division, which yields NULL for a zero divisor. Function results cannot,
 * because the catalogue turns missing counts into 0 and missing flags into false.
 */
function mayBeNull(node: ExpressionNode): boolean {
  switch (node.kind) {
    case 'Reference':
      return resolveAttribute(node)?.type !== 'boolean';
    case 'Arithmetic':
      return node.operator === '/' || mayBeNull(node.left) || mayBeNull(node.right);
    case 'Negate':
      return mayBeNull(node.operand);
    default:
      return false;
  }
}

class SqlCompiler implements EventSql {
  private readonly params: unknown[] = [];
  private readonly paramIndex = new Map<string, number>();
  private readonly aggregates = new Map<string, string>();
  private readonly tables = new Set<SourceTable>();

  constructor(private readonly context: CompileContext) {}

  /** The as-of date; bound on first use, since DuckDB rejects a parameter the statement never reads. */
  get asOf(): string {
    return `CAST(${this.param(this.context.asOf)} AS DATE)`;
  }

  /** Assembles the statement: the grouped event pass (if any), the joins in use, the predicate. */
  statement(predicate: string): CompiledSegment {
    const lines: string[] = [];
    if (this.aggregates.size > 0) {
      const columns = [...this.aggregates].map(([expression, alias]) => `    ${expression} AS ${alias}`);
      lines.push(
        'WITH event_windows AS (',
        '  SELECT',
        ['    user_id', ...columns].join(',\n'),
        '  FROM event_facts',
        `  WHERE local_date < ${this.asOf}`,
        '  GROUP BY user_id',
        ')',
      );
    }
    lines.push('SELECT m.user_id', 'FROM user_metrics AS m');
    for (const table of ['users', 'user_scores'] as const) {
      const alias = TABLE_ALIASES[table];
      if (this.tables.has(table)) lines.push(`LEFT JOIN ${table} AS ${alias} ON ${alias}.user_id = m.user_id`);
    }
    if (this.aggregates.size > 0) lines.push('LEFT JOIN event_windows AS e ON e.user_id = m.user_id');
    lines.push(`WHERE ${predicate}`, 'ORDER BY m.user_id');
    return { sql: lines.join('\n'), params: [...this.params] };
  }

  expression(node: ExpressionNode): string {
    return visit<string, ExpressionNode>(node, this.handlers);
  }

  private readonly handlers: AstVisitor<string, ExpressionNode['kind']> = {
    Logical: (node) => `(${this.expression(node.left)} ${node.operator} ${this.expression(node.right)})`,
    Not: (node) => `(NOT ${this.expression(node.operand)})`,
    Comparison: (node) => this.comparison(node),
    Arithmetic: (node) => {
      const left = this.double(node.left);
      const right = this.expression(node.right);
      return node.operator === '/' ? `(${left} / nullif(${right}, 0))` : `(${left} ${node.operator} ${right})`;
    },
    Negate: (node) => `(- ${this.double(node.operand)})`,
    NumberLiteral: (node) => `CAST(${this.param(node.value)} AS DOUBLE)`,
    StringLiteral: (node) => this.param(node.value),
    BooleanLiteral: (node) => this.param(node.value),
    Reference: (node) => {
      const attribute = resolveAttribute(node);
      if (!attribute) throw new Error(`Internal error: unresolved name ${node.path.map((n) => n.value).join('.')}.`);
      return this.attribute(attribute);
    },
    Call: (node) => this.call(node),
    Window: () => {
      throw new Error('Internal error: a window outside a function argument reached the compiler.');
    },
    List: () => {
      throw new Error('Internal error: a list outside a function argument reached the compiler.');
    },
  };

  /**
   * Compiles a comparison that is never NULL: a missing value (no plan, no score) makes it false, so
   * NOT and OR behave as two-valued logic. Strings compare without regard to case.
   */
  private comparison(node: NodeOfKind<'Comparison'>): string {
    const operator = COMPARISON_SQL[node.operator];
    const isDate = (side: ExpressionNode) => side.kind === 'Reference' && resolveAttribute(side)?.type === 'date';
    const isString = (side: ExpressionNode) =>
      side.kind === 'StringLiteral' || (side.kind === 'Reference' && resolveAttribute(side)?.type === 'string');

    const wrap = (sql: string) => (mayBeNull(node.left) || mayBeNull(node.right) ? `coalesce(${sql}, false)` : `(${sql})`);

    if (isDate(node.left) || isDate(node.right)) {
      const side = (n: ExpressionNode) => (n.kind === 'StringLiteral' ? `CAST(${this.param(n.value)} AS DATE)` : this.expression(n));
      return wrap(`${side(node.left)} ${operator} ${side(node.right)}`);
    }
    if (isString(node.left)) {
      return wrap(`lower(${this.expression(node.left)}) ${operator} lower(${this.expression(node.right)})`);
    }
    return wrap(`${this.expression(node.left)} ${operator} ${this.expression(node.right)}`);
  }

  /** Arithmetic runs in DOUBLE so that products of large counts cannot overflow an integer type. */
  private double(node: ExpressionNode): string {
    const sql = this.expression(node);
    return node.kind === 'NumberLiteral' || node.kind === 'Arithmetic' || node.kind === 'Negate' ? sql : `CAST(${sql} AS DOUBLE)`;
  }

  private attribute(attribute: AttributeEntry): string {
    if (attribute.table !== 'user_metrics') this.tables.add(attribute.table);
    const column = `${TABLE_ALIASES[attribute.table]}.${quoteIdent(attribute.column)}`;
    return attribute.type === 'boolean' ? `coalesce(${column}, false)` : column;
  }

  private call(node: NodeOfKind<'Call'>): string {
    const resolved = resolveCall(node);
    if (!resolved) throw new Error('Internal error: unresolved function reached the compiler.');
    const args: ArgValue[] = resolved.fn.params.map((param, index) => {
      const value = argumentValue(node.args[index], param.kind);
      if (!value) throw new Error(`Internal error: unchecked argument ${param.name}.`);
      return value;
    });
    if (resolved.shorthandEvent !== undefined) args.unshift({ kind: 'event', name: resolved.shorthandEvent });
    return resolved.fn.compile(args, this);
  }

  // EventSql: the services functions of the catalogue compile with.

  param(value: string | number | boolean): string {
    const key = `${typeof value}:${String(value)}`;
    let index = this.paramIndex.get(key);
    if (index === undefined) {
      this.params.push(value);
      index = this.params.length;
      this.paramIndex.set(key, index);
    }
    return `$${index}`;
  }

  aggregate(expression: string): string {
    let alias = this.aggregates.get(expression);
    if (alias === undefined) {
      alias = `a${this.aggregates.size + 1}`;
      this.aggregates.set(expression, alias);
    }
    return `e.${alias}`;
  }

  span(window: WindowNode): Span {
    const days = windowDays(window);
    if (days === undefined) {
      const dayOf = window.unit === 'week' ? 'isodow' : 'dayofmonth';
      const length = `CAST(${dayOf}(${this.asOf} - ${this.param(1)}) AS INTEGER)`;
      return { start: `${this.asOf} - ${length}`, end: this.asOf, days: length };
    }
    const endOffset = window.relation === 'previous' ? days : 0;
    return this.fixedSpan(endOffset, days);
  }

  previousSpan(window: WindowNode): Span {
    const days = windowDays(window);
    if (days === undefined) throw new Error('Internal error: previousSpan needs a window of fixed length.');
    const endOffset = window.relation === 'previous' ? days : 0;
    return this.fixedSpan(endOffset + days, days);
  }

  within(span: Span): string {
    return `local_date >= ${span.start} AND local_date < ${span.end}`;
  }

  featureFilter(span: Span): string {
    const excluded = this.context.nonFeatureEvents ?? [];
    if (excluded.length === 0) return this.within(span);
    return `event NOT IN (${excluded.map((name) => this.param(name)).join(', ')}) AND ${this.within(span)}`;
  }

  private fixedSpan(endOffset: number, days: number): Span {
    const end = endOffset === 0 ? this.asOf : `${this.asOf} - ${this.param(endOffset)}`;
    return { start: `${this.asOf} - ${this.param(endOffset + days)}`, end, days: this.param(days) };
  }
}
