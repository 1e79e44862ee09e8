import { UserInputError } from '../workspace/errors.js';
import { quoteIdent } from '../workspace/workspace.js';
import type { AstVisitor, ExpressionNode, NodeOfKind, ReferenceNode, SegmentNode, WindowNode } from './ast.js';
import { visit } from './ast.js';
import { TABLE_ALIASES, UNIT_DAYS, type ArgValue, type AttributeEntry, type EventSql, type SourceTable, type Span } from './catalog.js';
import { argumentValue, checkSegment, isIsoDate, resolveAttribute, resolveCall, windowDays, type CheckContext } from './checker.js';

export interface CompileContext extends CheckContext {
  /** The as-of boundary T as a date, `YYYY-MM-DD`: the first day the windows do NOT include. */
  readonly asOf: string;
  /** Event names that are not features (logins, page views); `unique_features_used` skips them. */
  readonly nonFeatureEvents?: readonly string[];
}

/**
 * Context of {@link compileSegmentSnapshots}: where the per-date population and the
 * snapshot dates are, instead of one as-of date.
 */
export interface SnapshotCompileContext extends CheckContext {
  /** Table (or CTE) of snapshot dates with columns `as_of` and `boundary` (as_of + 1, the first day not included). */
  readonly datesTable: string;
  /**
   * Table (or CTE) with one row per user known at each snapshot date: `as_of`, `boundary`,
   * `period_key`, `user_id`, and the `user_metrics` columns of `metricColumns` measured as of that date.
   */
  readonly metricsTable: string;
  /** The `user_metrics` columns that `metricsTable` computes per date. */
  readonly metricColumns: ReadonlySet<string>;
  /** Event names that are not features, as in {@link CompileContext}. */
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

/**
 * Compiles a segment into one SELECT that returns `(as_of, period_key, user_id)` for every
 * member at every date of `context.datesTable`. Windows end at each date's `boundary`, and
 * the event pass is one scan of `event_facts` joined to the dates it falls before, grouped
 * by date and user. Attributes come from `users` (static) and from `context.metricsTable`.
 * Throws a UserInputError when the segment does not check or reads an attribute that has no
 * per-date value (see {@link snapshotUnsupported}).
 */
export function compileSegmentSnapshots(segment: SegmentNode, context: SnapshotCompileContext): CompiledSegment {
  const errors = checkSegment(segment, context);
  if (errors.length > 0) throw errors[0];
  const unsupported = snapshotUnsupported(segment, context.metricColumns);
  if (unsupported.length > 0) {
    throw new UserInputError(
      `Segment "${segment.name.value}" uses ${unsupported.join(', ')}, which ${unsupported.length === 1 ? 'is' : 'are'} computed only ` +
        'for the current as-of day, so it has no history.',
    );
  }

  const conditions = segment.fields.find((field) => field.kind === 'ConditionsField');
  if (conditions?.kind !== 'ConditionsField') throw new Error('Internal error: a checked segment has conditions.');
  const compiler = new SqlCompiler({ nonFeatureEvents: context.nonFeatureEvents }, context);
  const predicate = compiler.expression(conditions.expression);
  return compiler.snapshotStatement(predicate, lookbackDays(conditions.expression));
}

/** Statements of {@link compileSnapshotBatch}. */
export interface SnapshotBatch {
  /**
   * The shared event pass: one SELECT of `as_of`, `user_id` and every aggregate the segments
   * use. The caller stores it as `eventWindowsTable` before running `members`. Undefined when
   * no segment calls an events function.
   */
  readonly eventPass?: CompiledSegment;
  /** Per segment, in input order, one SELECT of `(as_of, period_key, user_id)` for its members. */
  readonly members: readonly CompiledSegment[];
}

/**
 * Compiles several segments for every snapshot date with ONE shared event pass, so that
 * each event is joined to the dates only once for all of them and aggregates that several
 * segments use (sessions in the last 7 days, …) are computed once. The pass reaches back as
 * far as the longest window of any segment, or over the whole history when one of them needs
 * it. So callers should batch segments of bounded lookback apart from the others (see
 * {@link snapshotLookbackDays}). Each statement binds only the parameters it reads. Throws like
 * {@link compileSegmentSnapshots}.
 */
export function compileSnapshotBatch(
  segments: readonly SegmentNode[],
  context: SnapshotCompileContext & { readonly eventWindowsTable: string },
): SnapshotBatch {
  for (const segment of segments) compileSegmentSnapshots(segment, context);

  const compiler = new SqlCompiler({ nonFeatureEvents: context.nonFeatureEvents }, context);
  const bodies = segments.map((segment) => compiler.snapshotMembers(conditionsOf(segment), context.eventWindowsTable));
  const lookbacks = segments.map((segment) => snapshotLookbackDays(segment));
  const lookback = lookbacks.includes(undefined) ? undefined : Math.max(0, ...lookbacks.map((days) => days ?? 0));
  const eventPass = compiler.snapshotEventPass(lookback);
  return {
    ...(eventPass ? { eventPass: compactParams(eventPass, compiler.boundParams()) } : {}),
    members: bodies.map((sql) => compactParams(sql, compiler.boundParams())),
  };
}

/** Days before each date that a segment's event functions read, or undefined when they read the whole history. */
export function snapshotLookbackDays(segment: SegmentNode): number | undefined {
  return lookbackDays(conditionsOf(segment));
}

function conditionsOf(segment: SegmentNode): ExpressionNode {
  const conditions = segment.fields.find((field) => field.kind === 'ConditionsField');
  if (conditions?.kind !== 'ConditionsField') throw new Error('Internal error: a checked segment has conditions.');
  return conditions.expression;
}

/**
 * Renumbers the placeholders of one statement `$1`, `$2`, … in order of first use and keeps
 * only the parameters it reads, because DuckDB rejects a parameter that a statement never
 * reads. The compiler binds every value from the rule text, so each `$` followed by digits
 * in its SQL is a placeholder.
 */
function compactParams(sql: string, params: readonly unknown[]): CompiledSegment {
  const renumbered = new Map<number, number>();
  const used: unknown[] = [];
  const text = sql.replace(/\$(\d+)\b/g, (_match, digits: string) => {
    const index = Number(digits);
    let position = renumbered.get(index);
    if (position === undefined) {
      used.push(params[index - 1]);
      position = used.length;
      renumbered.set(index, position);
    }
    return `$${position}`;
  });
  return { sql: text, params: used };
}

/**
 * Lists the attributes of a segment, as written (`scores.engagement`), that have no value per
 * snapshot date: every `scores.*` attribute, and `user_metrics` columns outside `metricColumns`.
 * `users` columns are static, so they are always supported.
 */
export function snapshotUnsupported(segment: SegmentNode, metricColumns: ReadonlySet<string>): string[] {
  return segmentAttributes(segment)
    .filter(({ attribute }) => attribute.table === 'user_scores' || (attribute.table === 'user_metrics' && !metricColumns.has(attribute.column)))
    .map(({ name }) => name);
}

/** Lists the attributes and constants a segment reads, once each, with their names as written (`user.plan`). */
export function segmentAttributes(segment: SegmentNode): { readonly name: string; readonly attribute: AttributeEntry }[] {
  const found = new Map<string, AttributeEntry>();
  for (const reference of attributeReferences(segment)) {
    const attribute = resolveAttribute(reference);
    if (attribute) found.set(reference.path.map((name) => name.value).join('.'), attribute);
  }
  return [...found].map(([name, attribute]) => ({ name, attribute }));
}

/**
 * Calls `visit` on every node of an expression below the boolean and arithmetic operators:
 * calls, references and literals. It descends into a call's arguments only when
 * `visit` returns true for the call.
 */
function forEachOperand(expression: ExpressionNode, visit: (node: ExpressionNode) => boolean | void): void {
  const walk = (node: ExpressionNode): void => {
    switch (node.kind) {
      case 'Logical':
      case 'Comparison':
      case 'Arithmetic':
        walk(node.left);
        walk(node.right);
        return;
      case 'Not':
      case 'Negate':
        walk(node.operand);
        return;
      case 'List':
        node.items.forEach(walk);
        return;
      default:
        if (visit(node) === true && node.kind === 'Call') node.args.forEach(walk);
    }
  };
  walk(expression);
}

/** Collects every attribute or constant reference of a segment's conditions, but not the callees of calls. */
function attributeReferences(segment: SegmentNode): ReferenceNode[] {
  const found: ReferenceNode[] = [];
  const collect = (node: ExpressionNode): boolean => {
    if (node.kind === 'Reference') found.push(node);
    return node.kind === 'Call';
  };
  for (const field of segment.fields) if (field.kind === 'ConditionsField') forEachOperand(field.expression, collect);
  return found;
}

/**
 * Functions whose event reads stay inside their window arguments, and how many days before the
 * boundary they reach. Functions missing here (first_time and started_again look at the whole
 * history) make the event pass read every event before each date.
 */
const WINDOWED_FUNCTIONS: Readonly<Record<string, (args: readonly ArgValue[]) => number>> = {
  session_count: (args) => maxWindowDays(args),
  avg_weekly_sessions: (args) => maxWindowDays(args),
  active_days: (args) => maxWindowDays(args),
  unique_features_used: (args) => maxWindowDays(args),
  event_count: (args) => maxWindowDays(args),
  count: (args) => maxWindowDays(args),
  used_at_least: (args) => maxWindowDays(args),
  // The window and the one of the same length just before it.
  stopped: (args) => 2 * maxWindowDays(args),
  regularly: (args) => {
    const n = args[1]?.kind === 'count' ? args[1].value : 0;
    const unit = args[2]?.kind === 'period' ? args[2].unit : 'month';
    return n * UNIT_DAYS[unit];
  },
};

/** Days from the start of the furthest window argument to the boundary; a calendar month reaches back at most 31. */
function maxWindowDays(args: readonly ArgValue[]): number {
  let days = 0;
  for (const arg of args) {
    if (arg.kind !== 'window') continue;
    const length = windowDays(arg.window);
    let reach: number;
    if (length === undefined) reach = arg.window.unit === 'week' ? 7 : 31;
    else if (arg.window.relation === 'previous') reach = 2 * length;
    else reach = length;
    days = Math.max(days, reach);
  }
  return days;
}

/** Days before the boundary that the event pass of an expression reads, or undefined for the whole history. */
function lookbackDays(expression: ExpressionNode): number | undefined {
  let days = 0;
  let unbounded = false;
  forEachOperand(expression, (node) => {
    if (node.kind !== 'Call') return;
    const resolved = resolveCall(node);
    const reach = resolved && (resolved.shorthandEvent !== undefined ? maxWindowDays : WINDOWED_FUNCTIONS[resolved.name]);
    if (!resolved || !reach) {
      unbounded = true;
      return;
    }
    const args = resolved.fn.params.map((param, index) => argumentValue(node.args[index], param.kind)).filter((arg) => arg !== undefined);
    days = Math.max(days, reach(args));
  });
  return unbounded ? undefined : days;
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
  /** Calls of {@link aggregate}, repeats included, so that a batch can tell whether one segment reads the event pass. */
  private aggregateUses = 0;

  /**
   * `snapshot` switches the compiler to one row per user and snapshot date: windows then end at
   * the `boundary` column instead of the bound as-of date.
   */
  constructor(
    private readonly context: Pick<CompileContext, 'nonFeatureEvents'> & { readonly asOf?: string },
    private readonly snapshot?: SnapshotCompileContext,
  ) {}

  /**
   * The as-of date; bound on first use, since DuckDB rejects a parameter the statement never reads.
   * In snapshot mode it is the bare column `boundary`, which names the date in the event pass
   * (from the dates table) and in the predicate (from the metrics table), and no other joined table has it.
   */
  get asOf(): string {
    if (this.snapshot) return 'boundary';
    return `CAST(${this.param(this.context.asOf ?? '')} AS DATE)`;
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

  /**
   * Assembles the snapshot statement: the event pass joins each event to the dates it falls
   * before (within `lookback` days when the rule's windows bound it), grouped by date and user.
   */
  snapshotStatement(predicate: string, lookback: number | undefined): CompiledSegment {
    const snapshot = this.snapshot;
    if (!snapshot) throw new Error('Internal error: snapshotStatement outside snapshot mode.');
    const lines: string[] = [];
    if (this.aggregates.size > 0) {
      const columns = [...this.aggregates].map(([expression, alias]) => `    ${expression} AS ${alias}`);
      const reach = lookback === undefined ? '' : ` AND local_date >= d.boundary - ${this.param(lookback)}`;
      lines.push(
        'WITH event_windows AS (',
        '  SELECT',
        ['    d.as_of', '    user_id', ...columns].join(',\n'),
        `  FROM event_facts JOIN ${quoteIdent(snapshot.datesTable)} AS d ON local_date < d.boundary${reach}`,
        '  GROUP BY d.as_of, user_id',
        ')',
      );
    }
    lines.push('SELECT m.as_of, m.period_key, m.user_id', `FROM ${quoteIdent(snapshot.metricsTable)} AS m`);
    if (this.tables.has('users')) lines.push('LEFT JOIN users AS u ON u.user_id = m.user_id');
    if (this.aggregates.size > 0) lines.push('LEFT JOIN event_windows AS e ON e.as_of = m.as_of AND e.user_id = m.user_id');
    lines.push(`WHERE ${predicate}`, 'ORDER BY m.as_of, m.user_id');
    return { sql: lines.join('\n'), params: [...this.params] };
  }

  /**
   * Compiles one segment of a batch into the SELECT of its members, reading the shared event
   * pass from `eventWindowsTable`. Placeholders are numbered across the whole batch.
   */
  snapshotMembers(expression: ExpressionNode, eventWindowsTable: string): string {
    const snapshot = this.snapshot;
    if (!snapshot) throw new Error('Internal error: snapshotMembers outside snapshot mode.');
    this.tables.clear();
    const usesBefore = this.aggregateUses;
    const predicate = this.expression(expression);
    const lines = ['SELECT m.as_of, m.period_key, m.user_id', `FROM ${quoteIdent(snapshot.metricsTable)} AS m`];
    if (this.tables.has('users')) lines.push('LEFT JOIN users AS u ON u.user_id = m.user_id');
    if (this.aggregateUses > usesBefore) {
      lines.push(`LEFT JOIN ${quoteIdent(eventWindowsTable)} AS e ON e.as_of = m.as_of AND e.user_id = m.user_id`);
    }
    lines.push(`WHERE ${predicate}`);
    return lines.join('\n');
  }

  /** The shared event pass of a batch, or undefined when no segment of it calls an events function. */
  snapshotEventPass(lookback: number | undefined): string | undefined {
    const snapshot = this.snapshot;
    if (!snapshot) throw new Error('Internal error: snapshotEventPass outside snapshot mode.');
    if (this.aggregates.size === 0) return undefined;
    const columns = [...this.aggregates].map(([expression, alias]) => `  ${expression} AS ${alias}`);
    const reach = lookback === undefined ? '' : ` AND local_date >= d.boundary - ${this.param(lookback)}`;
    return [
      'SELECT',
      ['  d.as_of', '  user_id', ...columns].join(',\n'),
      `FROM event_facts JOIN ${quoteIdent(snapshot.datesTable)} AS d ON local_date < d.boundary${reach}`,
      'GROUP BY d.as_of, user_id',
    ].join('\n');
  }

  /** Returns every parameter bound so far, in placeholder order. */
  boundParams(): readonly unknown[] {
    return this.params;
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
    this.aggregateUses += 1;
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
