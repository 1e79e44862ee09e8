import type { AstVisitor, ExpressionNode, FieldNode, LogicalNode, SegmentNode } from './ast.js';
import { visit } from './ast.js';
import { windowName } from './checker.js';

const INDENT = '  ';

/** Binding strength of each expression kind; an operand weaker than its context gets brackets. */
const PRECEDENCE = { OR: 1, AND: 2, NOT: 3, COMPARISON: 4, ADDITIVE: 5, MULTIPLICATIVE: 6, UNARY: 7, ATOM: 8 } as const;

/**
 * Prints a segment as canonical source: two-space indentation, fields in their original
 * order, upper-case keywords, `=` for equality, one top-level AND / OR operand per line,
 * and only the brackets the tree needs. Parsing the output gives back the same tree.
 */
export function printSegment(segment: SegmentNode): string {
  const fields = segment.fields.map((field) => printField(field));
  return `segment ${printString(segment.name.value)} {\n${fields.join('\n')}\n}\n`;
}

/** Prints several segments separated by blank lines. */
export function printSegments(segments: readonly SegmentNode[]): string {
  return segments.map(printSegment).join('\n');
}

function printField(field: FieldNode): string {
  switch (field.kind) {
    case 'ConditionsField':
      return `${INDENT}conditions {\n${printCondition(field.expression, INDENT.repeat(2))}\n${INDENT}}`;
    case 'RefreshField':
      return `${INDENT}refresh: ${field.value.value}`;
    case 'TextField':
      return `${INDENT}${field.field}: ${printString(field.value.value)}`;
  }
}

/** Prints a condition block; AND / OR chains put one operand per line and nested chains in indented brackets. */
function printCondition(node: ExpressionNode, indent: string): string {
  if (node.kind !== 'Logical') return indent + printExpression(node);
  const operands = flattenChain(node);
  return operands
    .map((operand, index) => {
      const prefix = index === 0 ? indent : `${indent}${node.operator} `;
      if (operand.kind !== 'Logical') return prefix + printExpression(operand);
      return `${prefix}(\n${printCondition(operand, indent + INDENT)}\n${indent})`;
    })
    .join('\n');
}

/** `((a AND b) AND c)` becomes [a, b, c]; a right operand with the same operator stays whole, as the tree has it. */
function flattenChain(node: LogicalNode): ExpressionNode[] {
  const operands: ExpressionNode[] = [node.right];
  let left: ExpressionNode = node.left;
  while (left.kind === 'Logical' && left.operator === node.operator) {
    operands.push(left.right);
    left = left.left;
  }
  operands.push(left);
  return operands.reverse();
}

/** Prints an expression on one line, bracketing it when it binds more weakly than `context` requires. */
export function printExpression(node: ExpressionNode, context = 0): string {
  const { text, precedence } = visit<{ text: string; precedence: number }, ExpressionNode>(node, printers);
  return precedence < context ? `(${text})` : text;
}

const printers: AstVisitor<{ text: string; precedence: number }, ExpressionNode['kind']> = {
  Logical: (node) => {
    const precedence = PRECEDENCE[node.operator];
    const text = `${printExpression(node.left, precedence)} ${node.operator} ${printExpression(node.right, precedence + 1)}`;
    return { text, precedence };
  },
  Not: (node) => ({ text: `NOT ${printExpression(node.operand, PRECEDENCE.NOT)}`, precedence: PRECEDENCE.NOT }),
  Comparison: (node) => {
    const side = PRECEDENCE.COMPARISON + 1;
    const text = `${printExpression(node.left, side)} ${node.operator} ${printExpression(node.right, side)}`;
    return { text, precedence: PRECEDENCE.COMPARISON };
  },
  Arithmetic: (node) => {
    const precedence = node.operator === '+' || node.operator === '-' ? PRECEDENCE.ADDITIVE : PRECEDENCE.MULTIPLICATIVE;
    const text = `${printExpression(node.left, precedence)} ${node.operator} ${printExpression(node.right, precedence + 1)}`;
    return { text, precedence };
  },
  Negate: (node) => ({ text: `-${printExpression(node.operand, PRECEDENCE.UNARY)}`, precedence: PRECEDENCE.UNARY }),
  NumberLiteral: (node) => ({ text: `${node.raw}${node.percent ? '%' : ''}`, precedence: PRECEDENCE.ATOM }),
  StringLiteral: (node) => ({ text: printString(node.value), precedence: PRECEDENCE.ATOM }),
  BooleanLiteral: (node) => ({ text: String(node.value), precedence: PRECEDENCE.ATOM }),
  Window: (node) => ({ text: windowName(node), precedence: PRECEDENCE.ATOM }),
  Reference: (node) => ({ text: node.path.map((name) => name.value).join('.'), precedence: PRECEDENCE.ATOM }),
  Call: (node) => {
    const args = node.args.map((arg) => printExpression(arg)).join(', ');
    return { text: `${printers.Reference(node.callee).text}(${args})`, precedence: PRECEDENCE.ATOM };
  },
  List: (node) => ({ text: `[${node.items.map((item) => printExpression(item)).join(', ')}]`, precedence: PRECEDENCE.ATOM }),
};

/** Writes a string literal with the escapes the lexer reads: \" \\ \n \t. */
export function printString(value: string): string {
  const escaped = value.replace(/[\\"\n\t]/g, (char) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t' })[char] ?? char);
  return `"${escaped}"`;
}
