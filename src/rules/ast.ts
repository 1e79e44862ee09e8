import type { Source } from './source.js';

/** Character offsets of a node in its source: `start` inclusive, `end` exclusive. */
export interface Loc {
  readonly start: number;
  readonly end: number;
}

/** `segment "Name" { field… }`; `source` is the file it was parsed from, for error locations. */
export interface SegmentNode {
  readonly kind: 'Segment';
  readonly name: StringLiteralNode;
  readonly fields: readonly FieldNode[];
  readonly source: Source;
  readonly loc: Loc;
}

export type FieldNode = ConditionsFieldNode | RefreshFieldNode | TextFieldNode;

/** `conditions { expression }`. */
export interface ConditionsFieldNode {
  readonly kind: 'ConditionsField';
  readonly expression: ExpressionNode;
  readonly loc: Loc;
}

/** `refresh: daily`; the value is checked against the catalogue's refresh cadences. */
export interface RefreshFieldNode {
  readonly kind: 'RefreshField';
  readonly value: NameNode;
  readonly loc: Loc;
}

/** `description: "…"` or `action: "…"`. */
export interface TextFieldNode {
  readonly kind: 'TextField';
  readonly field: 'description' | 'action';
  readonly value: StringLiteralNode;
  readonly loc: Loc;
}

export type ExpressionNode =
  | LogicalNode
  | NotNode
  | ComparisonNode
  | ArithmeticNode
  | NegateNode
  | NumberLiteralNode
  | StringLiteralNode
  | BooleanLiteralNode
  | WindowNode
  | ReferenceNode
  | CallNode
  | ListNode;

export type ComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithmeticOperator = '+' | '-' | '*' | '/';

/** `left AND right`, `left OR right`; keywords are stored upper-case whatever the spelling. */
export interface LogicalNode {
  readonly kind: 'Logical';
  readonly operator: 'AND' | 'OR';
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly loc: Loc;
}

export interface NotNode {
  readonly kind: 'Not';
  readonly operand: ExpressionNode;
  readonly loc: Loc;
}

/** A comparison; `==` is stored as `=`. */
export interface ComparisonNode {
  readonly kind: 'Comparison';
  readonly operator: ComparisonOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly loc: Loc;
}

export interface ArithmeticNode {
  readonly kind: 'Arithmetic';
  readonly operator: ArithmeticOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly loc: Loc;
}

/** Unary minus. */
export interface NegateNode {
  readonly kind: 'Negate';
  readonly operand: ExpressionNode;
  readonly loc: Loc;
}

/**
 * A number as written. `70%` has `raw` "70", `percent` true and `value` 0.7; the
 * printer writes it back as a percentage.
 */
export interface NumberLiteralNode {
  readonly kind: 'NumberLiteral';
  readonly raw: string;
  readonly percent: boolean;
  readonly value: number;
  readonly loc: Loc;
}

export interface StringLiteralNode {
  readonly kind: 'StringLiteral';
  readonly value: string;
  readonly loc: Loc;
}

export interface BooleanLiteralNode {
  readonly kind: 'BooleanLiteral';
  readonly value: boolean;
  readonly loc: Loc;
}

export type WindowUnit = 'day' | 'week' | 'month';

/**
 * A time window ending at (or, for `previous`, just before) the as-of boundary:
 * `last_7_days`, `previous_4_weeks`, `this_week`, `this_month`. For `this` windows
 * `count` is 1.
 */
export interface WindowNode {
  readonly kind: 'Window';
  readonly relation: 'last' | 'previous' | 'this';
  readonly count: number;
  readonly unit: WindowUnit;
  readonly loc: Loc;
}

/** An identifier. */
export interface NameNode {
  readonly kind: 'Name';
  readonly value: string;
  readonly loc: Loc;
}

/** A dotted name such as `user.plan`, `scores.engagement`, or a bare one such as `total_features`. */
export interface ReferenceNode {
  readonly kind: 'Reference';
  readonly path: readonly NameNode[];
  readonly loc: Loc;
}

/** `events.session_count(last_7_days)`. */
export interface CallNode {
  readonly kind: 'Call';
  readonly callee: ReferenceNode;
  readonly args: readonly ExpressionNode[];
  readonly loc: Loc;
}

/** `["a", "b"]`, allowed only as a function argument. */
export interface ListNode {
  readonly kind: 'List';
  readonly items: readonly ExpressionNode[];
  readonly loc: Loc;
}

export type AstNode = SegmentNode | FieldNode | ExpressionNode | NameNode;
export type AstKind = AstNode['kind'];
export type NodeOfKind<K extends AstKind> = Extract<AstNode, { kind: K }>;

/**
 * One handler per node kind. Stages that walk the tree declare their handlers with this
 * type, so adding a node kind fails to compile until every stage handles it.
 */
export type AstVisitor<R, K extends AstKind = AstKind> = { readonly [P in K]: (node: NodeOfKind<P>) => R };

/** Calls the handler registered for `node.kind`. */
export function visit<R, N extends AstNode>(node: N, visitor: AstVisitor<R, N['kind']>): R {
  const handler = visitor[node.kind as N['kind']] as unknown as (node: N) => R;
  return handler(node);
}
