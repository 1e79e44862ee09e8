import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { SegmentNode } from '../rules/ast.js';
import { parseRules } from '../rules/parser.js';

/** A segment shipped with the server, written in the rule language. */
export interface BuiltinSegment {
  readonly name: string;
  /** File stem the segment comes from: behavioral, lifecycle, intent, plan, dormant, champions, expansion, methodology. */
  readonly category: string;
  /** Path of the `.seg` file, for error messages. */
  readonly file: string;
  readonly ast: SegmentNode;
}

/** Folder of the built-in rule files; the build copies it next to the compiled module. */
export const BUILTIN_SEGMENT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'catalog');

/**
 * Reads and parses every `.seg` file of the built-in catalogue, in file-name order and
 * then source order. Throws a RuleError if a file does not parse, which is a packaging
 * bug rather than bad user input.
 */
export function loadBuiltinSegments(directory: string = BUILTIN_SEGMENT_DIR): BuiltinSegment[] {
  const files = readdirSync(directory).filter((file) => file.endsWith('.seg')).sort();
  return files.flatMap((file) => {
    const fullPath = path.join(directory, file);
    const category = file.slice(0, -'.seg'.length);
    return parseRules(readFileSync(fullPath, 'utf8'), fullPath).map((ast) => ({ name: ast.name.value, category, file: fullPath, ast }));
  });
}
