import type {
  AstVisitor,
  CallNode,
  ComparisonNode,
  ExpressionNode,
  FieldNode,
  Loc,
  NameNode,
  ReferenceNode,
  SegmentNode,
  WindowNode,
} from './ast.js';
import { visit } from './ast.js';
import {
  ATTRIBUTES,
  CONSTANTS,
  EVENT_FUNCTIONS,
  EVENT_SHORTHAND,
  MAX_WINDOW_DAYS,
  NAMESPACES,
  PERIODS,
  REFRESH_CADENCES,
  UNIT_DAYS,
  type ArgValue,
  type AttributeEntry,
  type EventFunction,
  type Namespace,
  type ParamKind,
  type ValueType,
} from './catalog.js';
import { RuleError } from './errors.js';
import { didYouMean, suggestionList } from './suggest.js';

/** Facts about the workspace that the checker validates rules against. */
export interface CheckContext {
  /** Event names present in the workspace; when given, every event a rule names must be one of them. */
  readonly eventNames?: Iterable<string>;
}

/** Largest magnitude of a number literal; larger ones are rejected rather than rounded. */
export const MAX_NUMBER = 1e12;

/** Windows offered as suggestions when a window name is misspelled. */
const COMMON_WINDOWS = [
  'last_1_day', 'last_7_days', 'last_14_days', 'last_28_days', 'last_30_days', 'last_60_days', 'last_90_days',
  'last_4_weeks', 'last_3_months', 'previous_7_days', 'previous_30_days', 'this_week', 'this_month',
];

/** The static type of an expression; `invalid` follows an error already reported, so it causes no second error. */
type Type = ValueType | 'window' | 'list' | 'invalid';

/** A call resolved against the catalogue. */
export interface ResolvedCall {
  readonly name: string;
  readonly fn: EventFunction;
  /** Set for `events.<event_name>(window)`: the event the shorthand counts. */
  readonly shorthandEvent?: string;
}

/**
 * Checks one segment against the catalogue and returns every error found, in source
 * order; an empty list means the segment compiles.
 */
export function checkSegment(segment: SegmentNode, context: CheckContext = {}): RuleError[] {
  const checker = new Checker(segment, context);
  checker.checkSegment();
  return checker.errors.sort((a, b) => a.start - b.start);
}

/** Checks several segments of one file, and that no two share a name. */
export function checkSegments(segments: readonly SegmentNode[], context: CheckContext = {}): RuleError[] {
  const errors: RuleError[] = [];
  const seen = new Set<string>();
  for (const segment of segments) {
    if (seen.has(segment.name.value)) {
      errors.push(new RuleError(segment.source, segment.name.loc.start, segment.name.loc.end,
        `Segment "${segment.name.value}" is defined twice; give each segment its own name.`));
    }
    seen.add(segment.name.value);
    errors.push(...checkSegment(segment, context));
  }
  return errors;
}

/** Looks up the callee of a call; undefined when it names no function. */
export function resolveCall(call: CallNode): ResolvedCall | undefined {
  const path = call.callee.path.map((name) => name.value);
  if (path.length !== 2 || path[0] !== 'events') return undefined;
  const name = path[1];
  const fn = own(EVENT_FUNCTIONS, name);
  if (fn) return { name, fn };
  if (own(ATTRIBUTES.events, name)) return undefined;
  return { name, fn: EVENT_SHORTHAND, shorthandEvent: name };
}

/** Looks up a reference to an attribute or constant; undefined when it names neither. */
export function resolveAttribute(reference: ReferenceNode): AttributeEntry | undefined {
  const path = reference.path.map((name) => name.value);
  if (path.length === 1) return own(CONSTANTS, path[0]);
  if (path.length !== 2 || !(NAMESPACES as readonly string[]).includes(path[0])) return undefined;
  return own(ATTRIBUTES[path[0] as Namespace], path[1]);
}

/** Converts an argument node into the value a function compiles with; undefined when it is not of that kind. */
export function argumentValue(node: ExpressionNode, kind: ParamKind): ArgValue | undefined {
  switch (kind) {
    case 'window':
    case 'fixed_window':
      return node.kind === 'Window' ? { kind: 'window', window: node } : undefined;
    case 'event':
      return node.kind === 'StringLiteral' ? { kind: 'event', name: node.value } : undefined;
    case 'event_list':
      if (node.kind !== 'List' || !node.items.every((item) => item.kind === 'StringLiteral')) return undefined;
      return { kind: 'event_list', names: node.items.map((item) => (item.kind === 'StringLiteral' ? item.value : '')) };
    case 'count':
      return node.kind === 'NumberLiteral' && !node.percent ? { kind: 'count', value: node.value } : undefined;
    case 'period': {
      const unit = node.kind === 'Reference' && node.path.length === 1 ? own(PERIODS, node.path[0].value) : undefined;
      return unit ? { kind: 'period', unit } : undefined;
    }
  }
}

/** Length of a window in days, or undefined for calendar windows (this_week, this_month). */
export function windowDays(window: WindowNode): number | undefined {
  return window.relation === 'this' ? undefined : window.count * UNIT_DAYS[window.unit];
}

/** Writes a window back as source text. */
export function windowName(window: WindowNode): string {
  if (window.relation === 'this') return `this_${window.unit}`;
  const digits = window.count.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 0 });
  return `${window.relation}_${digits}_${window.unit}${window.count === 1 ? '' : 's'}`;
}

/** Looks up a key of a catalogue table, so that names such as `constructor` never reach Object.prototype. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

const FIELD_NAMES: Partial<Record<FieldNode['kind'], string>> = { ConditionsField: 'conditions', RefreshField: 'refresh' };

const ARTICLE: Record<Type, string> = {
  number: 'a number', string: 'a string', boolean: 'true or false', date: 'a date',
  window: 'a window', list: 'a list', invalid: 'an invalid value',
};

const PARAM_DESCRIPTION: Record<ParamKind, string> = {
  window: 'a window such as last_7_days',
  fixed_window: 'a window of fixed length such as last_7_days',
  event: 'an event name in double quotes',
  event_list: 'a list of event names such as ["export", "share"]',
  count: 'a whole number of at least 1',
  period: 'days, weeks or months',
};

class Checker {
  readonly errors: RuleError[] = [];
  private readonly eventNames: ReadonlySet<string> | undefined;

  constructor(
    private readonly segment: SegmentNode,
    context: CheckContext,
  ) {
    this.eventNames = context.eventNames ? new Set(context.eventNames) : undefined;
  }

  checkSegment(): void {
    const { segment } = this;
    if (segment.name.value.trim() === '') this.report(segment.name.loc, 'Segment name is empty; give the segment a name.');

    const seen = new Set<string>();
    for (const field of segment.fields) {
      const fieldName = FIELD_NAMES[field.kind] ?? (field.kind === 'TextField' ? field.field : field.kind);
      if (seen.has(fieldName)) {
        this.report(field.loc, `Field "${fieldName}" appears twice in segment "${segment.name.value}"; keep one.`);
      }
      seen.add(fieldName);

      if (field.kind === 'RefreshField') this.checkRefresh(field.value);
      if (field.kind === 'ConditionsField') {
        const type = this.check(field.expression);
        if (type !== 'boolean' && type !== 'invalid') {
          this.report(field.expression.loc,
            `The conditions of segment "${segment.name.value}" must be true or false, but ${this.quote(field.expression)} is ${ARTICLE[type]}. ` +
              'Compare it with a value, e.g. `… >= 1`.');
        }
      }
    }
    if (!seen.has('conditions')) {
      this.report(segment.name.loc, `Segment "${segment.name.value}" has no conditions; add "conditions { … }".`);
    }
  }

  private checkRefresh(value: NameNode): void {
    if ((REFRESH_CADENCES as readonly string[]).includes(value.value)) return;
    this.report(value.loc,
      `Unknown refresh cadence "${value.value}"; use daily, weekly or monthly.` +
        didYouMean(suggestionList(value.value, REFRESH_CADENCES)));
  }

  private check(node: ExpressionNode): Type {
    return visit<Type, ExpressionNode>(node, this.handlers);
  }

  private readonly handlers: AstVisitor<Type, ExpressionNode['kind']> = {
    Logical: (node) => {
      this.expectBoolean(node.left, node.operator);
      this.expectBoolean(node.right, node.operator);
      return 'boolean';
    },
    Not: (node) => {
      this.expectBoolean(node.operand, 'NOT');
      return 'boolean';
    },
    Comparison: (node) => this.checkComparison(node),
    Arithmetic: (node) => {
      const ok = [node.left, node.right].map((operand) => this.expectNumber(operand, `"${node.operator}"`));
      return ok.every(Boolean) ? 'number' : 'invalid';
    },
    Negate: (node) => (this.expectNumber(node.operand, 'Unary "-"') ? 'number' : 'invalid'),
    NumberLiteral: (node) => {
      if (!Number.isFinite(node.value) || Math.abs(node.value) > MAX_NUMBER) {
        this.report(node.loc, `Number ${node.raw}${node.percent ? '%' : ''} is out of range; numbers must lie between -${MAX_NUMBER} and ${MAX_NUMBER}.`);
        return 'invalid';
      }
      return 'number';
    },
    StringLiteral: () => 'string',
    BooleanLiteral: () => 'boolean',
    Window: (node) => {
      this.report(node.loc, `The window ${windowName(node)} can only be an argument of an events function, e.g. events.session_count(${windowName(node)}).`);
      return 'invalid';
    },
    Reference: (node) => this.checkReference(node),
    Call: (node) => this.checkCall(node),
    List: (node) => {
      this.report(node.loc, 'A list can only be an argument of events.used_at_least.');
      return 'invalid';
    },
  };

  private checkComparison(node: ComparisonNode): Type {
    const left = this.check(node.left);
    const right = this.check(node.right);
    if (left === 'invalid' || right === 'invalid') return 'boolean';

    const dateAndText = (date: ExpressionNode, text: ExpressionNode, dateType: Type, textType: Type) =>
      dateType === 'date' && textType === 'string' && text.kind === 'StringLiteral';
    if (dateAndText(node.left, node.right, left, right) || dateAndText(node.right, node.left, right, left)) {
      const text = node.left.kind === 'StringLiteral' ? node.left : node.right;
      if (text.kind === 'StringLiteral' && !isIsoDate(text.value)) {
        this.report(text.loc, `Invalid date "${text.value}"; write dates as "YYYY-MM-DD".`);
      }
      return 'boolean';
    }

    if (left !== right) {
      this.report(node.loc,
        `Cannot compare ${ARTICLE[left]} with ${ARTICLE[right]}: ${this.quote(node.left)} is ${ARTICLE[left]} and ${this.quote(node.right)} is ${ARTICLE[right]}.`);
      return 'boolean';
    }
    if ((left === 'string' || left === 'boolean') && node.operator !== '=' && node.operator !== '!=') {
      this.report(node.loc, `Operator "${node.operator}" does not apply to ${left === 'string' ? 'strings' : 'true/false values'}; use = or !=.`);
    }
    if (left === 'window' || left === 'list') this.report(node.loc, `Cannot compare ${ARTICLE[left]}s.`);
    return 'boolean';
  }

  private checkReference(node: ReferenceNode): Type {
    const attribute = resolveAttribute(node);
    if (attribute) return attribute.type;

    const path = node.path.map((name) => name.value);
    const text = path.join('.');
    if (path.length > 2) {
      this.report(node.loc, `Name "${text}" has too many parts; names have the form namespace.attribute, e.g. user.plan.`);
      return 'invalid';
    }
    if (path.length === 1) return this.unknownBareName(node.path[0]);

    const [namespace, name] = node.path;
    if (!(NAMESPACES as readonly string[]).includes(namespace.value)) {
      this.report(namespace.loc,
        `Unknown namespace "${namespace.value}" in "${text}"; the namespaces are user, scores, usage and events.` +
          didYouMean(suggestionList(namespace.value, NAMESPACES)));
      return 'invalid';
    }
    if (namespace.value === 'events') {
      const fn = own(EVENT_FUNCTIONS, name.value);
      const example = fn ? fn.example : `events.${name.value}(last_7_days)`;
      this.report(node.loc, `"${text}" is a function and needs its arguments, e.g. ${example}.`);
      return 'invalid';
    }
    const options = Object.keys(ATTRIBUTES[namespace.value as Namespace]);
    this.report(name.loc,
      `Unknown attribute "${text}"; ${namespace.value} has ${options.join(', ')}.` +
        didYouMean(suggestionList(name.value, options).map((option) => `${namespace.value}.${option}`)));
    return 'invalid';
  }

  private unknownBareName(name: NameNode): Type {
    if ((NAMESPACES as readonly string[]).includes(name.value)) {
      this.report(name.loc, `"${name.value}" is a namespace; name one of its attributes, e.g. ${name.value === 'events' ? 'events.session_count(last_7_days)' : `${name.value}.${Object.keys(ATTRIBUTES[name.value as Namespace])[0]}`}.`);
      return 'invalid';
    }
    if (own(PERIODS, name.value)) {
      this.report(name.loc, `The period "${name.value}" can only be the last argument of events.regularly.`);
      return 'invalid';
    }
    const options = [...Object.keys(CONSTANTS), ...COMMON_WINDOWS];
    this.report(name.loc,
      `Unknown name "${name.value}"; a bare name is a constant (${Object.keys(CONSTANTS).join(', ')}) or a window such as last_7_days.` +
        didYouMean(suggestionList(name.value, options)));
    return 'invalid';
  }

  private checkCall(node: CallNode): Type {
    const path = node.callee.path.map((name) => name.value);
    const text = path.join('.');
    const resolved = resolveCall(node);

    if (!resolved) {
      if (resolveAttribute(node.callee)) {
        this.report(node.loc, `"${text}" is a value, not a function; remove the parentheses.`);
        return 'invalid';
      }
      if (path[0] === 'events' && path.length !== 2) {
        this.report(node.callee.loc, `Function "${text}" has too many parts; functions have the form events.name(…).`);
      } else if ((NAMESPACES as readonly string[]).includes(path[0]) || path.length === 1) {
        this.report(node.callee.loc, `Unknown function "${text}"; only events.* names are functions.`);
      } else {
        this.checkReference(node.callee);
      }
      node.args.forEach((arg) => this.checkArgumentLoosely(arg));
      return 'invalid';
    }

    if (resolved.shorthandEvent !== undefined) this.checkShorthandEvent(resolved.shorthandEvent, node.callee.path[1]);
    return this.checkArguments(node, resolved);
  }

  /** Checks each argument against the function's parameter kinds, then the function's own checks. */
  private checkArguments(node: CallNode, resolved: ResolvedCall): Type {
    const { fn } = resolved;
    const text = `events.${resolved.name}`;
    if (node.args.length !== fn.params.length) {
      const names = fn.params.map((param) => param.name).join(', ');
      this.report(node.loc,
        `${text} takes ${fn.params.length} argument${fn.params.length === 1 ? '' : 's'} (${names}), found ${node.args.length}; e.g. ${fn.example}.`);
      node.args.forEach((arg) => this.checkArgumentLoosely(arg));
      return fn.returns;
    }

    const values: ArgValue[] = [];
    let valid = true;
    fn.params.forEach((param, index) => {
      const value = this.checkArgument(node.args[index], param.kind, `${text}`, param.name);
      if (value) values.push(value);
      else valid = false;
    });
    if (resolved.shorthandEvent !== undefined) values.unshift({ kind: 'event', name: resolved.shorthandEvent });
    if (valid && fn.check) {
      const message = fn.check(values.slice(resolved.shorthandEvent !== undefined ? 1 : 0));
      if (message) this.report(node.loc, message);
    }
    return fn.returns;
  }

  private checkArgument(node: ExpressionNode, kind: ParamKind, fnText: string, paramName: string): ArgValue | undefined {
    const value = argumentValue(node, kind);
    if (!value) {
      this.report(node.loc,
        `Argument "${paramName}" of ${fnText} must be ${PARAM_DESCRIPTION[kind]}; found ${this.quote(node)}.` + this.argumentSuggestion(node, kind));
      return undefined;
    }

    switch (value.kind) {
      case 'window':
        return this.checkWindow(value.window, kind, fnText) ? value : undefined;
      case 'event':
        return this.checkEventName(value.name, node.loc) ? value : undefined;
      case 'event_list': {
        if (value.names.length === 0) {
          this.report(node.loc, `Argument "${paramName}" of ${fnText} is an empty list; list at least one event.`);
          return undefined;
        }
        const items = node.kind === 'List' ? node.items : [];
        const allKnown = items.map((item) => this.checkEventName(item.kind === 'StringLiteral' ? item.value : '', item.loc));
        return allKnown.every(Boolean) ? value : undefined;
      }
      case 'count':
        if (!Number.isInteger(value.value) || value.value < 1 || value.value > MAX_WINDOW_DAYS) {
          this.report(node.loc, `Argument "${paramName}" of ${fnText} must be a whole number from 1 to ${MAX_WINDOW_DAYS}; found ${this.quote(node)}.`);
          return undefined;
        }
        return value;
      case 'period':
        return value;
    }
  }

  private argumentSuggestion(node: ExpressionNode, kind: ParamKind): string {
    if (node.kind !== 'Reference' || node.path.length !== 1) return '';
    if (kind === 'event') return ` Write it in double quotes: "${node.path[0].value}".`;
    const options = kind === 'period' ? ['days', 'weeks', 'months'] : kind === 'window' || kind === 'fixed_window' ? COMMON_WINDOWS : [];
    return didYouMean(suggestionList(node.path[0].value, options));
  }

  private checkWindow(window: WindowNode, kind: ParamKind, fnText: string): boolean {
    const days = windowDays(window);
    if (days === undefined) {
      if (kind === 'fixed_window') {
        this.report(window.loc, `${fnText} needs a window of fixed length such as last_7_days; ${windowName(window)} has none.`);
        return false;
      }
      return true;
    }
    if (days < 1 || days > MAX_WINDOW_DAYS) {
      this.report(window.loc,
        `Window ${windowName(window)} is out of range: it covers ${days} days, and a window covers 1 to ${MAX_WINDOW_DAYS} days.`);
      return false;
    }
    return true;
  }

  /**
   * Checks the event of `events.<name>(…)`. A name close to a function name is most
   * likely a misspelt function, so it is rejected unless the workspace has that event.
   */
  private checkShorthandEvent(event: string, name: NameNode): void {
    if (this.eventNames?.has(event)) return;
    const functions = suggestionList(event, Object.keys(EVENT_FUNCTIONS)).map((f) => `events.${f}`);
    if (!this.eventNames && functions.length === 0) return;

    const events = this.eventNames ? suggestionList(event, this.eventNames).map((e) => `events.${e}`) : [];
    const known = this.eventNames ? 'and the workspace has no event of that name' : `and no list of workspace events was given to check it`;
    this.report(name.loc,
      `Unknown function or event "events.${event}": it is not a function, ${known}.` + didYouMean([...functions, ...events]) +
        (functions.length > 0 ? ` To count an event with this name, write events.count("${event}", last_7_days).` : ''));
  }

  /** Reports an event name the workspace does not contain; returns whether the name is acceptable. */
  private checkEventName(name: string, loc: Loc): boolean {
    if (name === '') {
      this.report(loc, 'Event name is empty; name the event, e.g. "pricing_page_view".');
      return false;
    }
    if (!this.eventNames || this.eventNames.has(name)) return true;
    const hint = this.eventNames.size === 0 ? ' No events are loaded in this workspace.' : didYouMean(suggestionList(name, this.eventNames));
    this.report(loc, `Unknown event "${name}": the workspace has no event of that name.${hint}`);
    return false;
  }

  /** Checks an argument of a call that failed already, to report errors inside it without type expectations. */
  private checkArgumentLoosely(node: ExpressionNode): void {
    if (node.kind === 'Window' || node.kind === 'List') return;
    if (node.kind === 'Reference' && node.path.length === 1) return;
    this.check(node);
  }

  private expectBoolean(node: ExpressionNode, operator: string): void {
    const type = this.check(node);
    if (type === 'boolean' || type === 'invalid') return;
    this.report(node.loc,
      `${operator} needs true/false conditions, but ${this.quote(node)} is ${ARTICLE[type]}. Compare it with a value, e.g. \`… >= 1\`.`);
  }

  private expectNumber(node: ExpressionNode, operator: string): boolean {
    const type = this.check(node);
    if (type === 'number') return true;
    if (type !== 'invalid') this.report(node.loc, `${operator} needs numbers, but ${this.quote(node)} is ${ARTICLE[type]}.`);
    return false;
  }

  /** Quotes the node's source text in backticks, on one line and shortened to 60 characters. */
  private quote(node: ExpressionNode): string {
    const text = this.segment.source.body.slice(node.loc.start, node.loc.end).replace(/\s+/g, ' ');
    return `\`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\``;
  }

  private report(loc: Loc, message: string): void {
    this.errors.push(new RuleError(this.segment.source, loc.start, loc.end, message));
  }
}

/** Tells whether `value` is a real calendar date written as YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
