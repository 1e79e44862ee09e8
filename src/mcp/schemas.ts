import { z } from 'zod';

/** Removes every `$schema` keyword, so the schema falls back to the dialect MCP defines (JSON Schema 2020-12). */
function withoutDialect(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDialect);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).filter(([key]) => key !== '$schema');
  return Object.fromEntries(entries.map(([key, child]) => [key, withoutDialect(child)]));
}

/**
 * Converts a tool's zod shape to the JSON Schema listed in `tools/list`: JSON Schema
 * 2020-12 without a `$schema` keyword. Input schemas reject unknown properties, as
 * runTool does. SDK 1.32.2 would list draft-07 schemas stamped
 * "http://json-schema.org/draft-07/schema#", which clients that only accept 2020-12 reject.
 */
export function toolJsonSchema(shape: z.ZodRawShape, io: 'input' | 'output'): Record<string, unknown> & { type: 'object' } {
  const object = io === 'input' ? z.strictObject(shape) : z.object(shape);
  const schema = z.toJSONSchema(object, { target: 'draft-2020-12', io, unrepresentable: 'any' });
  return withoutDialect(schema) as Record<string, unknown> & { type: 'object' };
}
