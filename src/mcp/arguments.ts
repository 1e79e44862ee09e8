import { z } from 'zod';
import { UserInputError } from '../workspace/index.js';

const PREVIEW_CHARS = 80;

function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Writes an argument path the way JavaScript would, e.g. `answers.decisions` or `path[2]`. */
function pathName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const key of path) {
    if (typeof key === 'number') name += `[${key}]`;
    else name += name === '' ? String(key) : `.${String(key)}`;
  }
  return name;
}

function describeIssue(shape: z.ZodRawShape, args: unknown, issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const names = issue.keys.map((key) => `"${key}"`).join(', ');
    const unknown = `Unknown argument${issue.keys.length > 1 ? 's' : ''} ${names}`;
    if (issue.path.length > 0) return `${unknown} in ${pathName(issue.path)}. Remove it.`;
    const known = Object.keys(shape);
    if (known.length === 0) return `${unknown}. This tool takes no arguments.`;
    return `${unknown}. Known arguments: ${known.join(', ')}.`;
  }
  const name = pathName(issue.path);
  const field = shape[String(issue.path[0])] as z.ZodType | undefined;
  const hint = field?.description ? ` (${String(issue.path[0])}: ${field.description})` : '';
  const value = valueAt(args, issue.path);
  if (value === undefined) return `Missing argument "${name}"${hint}.`;
  const reason = issue.message.replace(/^Invalid input: /, '').replace(/^Invalid input$/, 'invalid value');
  return `Invalid ${name} ${preview(value)}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}${hint}.`;
}

/**
 * Checks tool arguments against the tool's input shape, rejecting unknown names, and
 * returns the parsed values. Throws a UserInputError that names each invalid argument,
 * shows the value received and repeats the field's description.
 */
export function parseArguments(toolName: string, shape: z.ZodRawShape, args: unknown): Record<string, unknown> {
  const result = z.strictObject(shape).safeParse(args ?? {});
  if (result.success) return result.data as Record<string, unknown>;
  const problems = result.error.issues.map((issue) => describeIssue(shape, args, issue));
  throw new UserInputError(`${problems.join(' ')} Correct the arguments and call ${toolName} again.`);
}
