import { readFileSync } from 'node:fs';
import { RuleError, Source, checkSegments, parseRules, type CheckContext, type SegmentNode } from '../rules/index.js';
import { UserInputError, type Workspace } from '../workspace/index.js';
import { RuleErrorList, saveSegment, workspaceEventNames, type SavedSegment } from './definitions.js';

/**
 * Reads a rule file (one or more `segment "…" { … }` blocks), parses it and checks every
 * segment. Returns the trees, or throws one RuleErrorList that carries every error of the
 * file with its line, column and caret.
 */
export function readRuleFile(file: string, context: CheckContext = {}): readonly SegmentNode[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserInputError(`Cannot read the rule file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Check the path.`);
  }
  let segments: readonly SegmentNode[];
  try {
    segments = parseRules(new Source(text, file));
  } catch (error) {
    if (error instanceof RuleError) throw new RuleErrorList([error]);
    throw error;
  }
  if (segments.length === 0) throw new UserInputError(`The rule file ${file} defines no segment. Write segment "Name" { conditions { … } }.`);
  const errors = checkSegments(segments, context);
  if (errors.length > 0) throw new RuleErrorList(errors);
  return segments;
}

/**
 * Checks a rule file against the workspace's event names and saves every segment in it,
 * replacing saved segments of the same name. Nothing is saved when any segment has an error.
 */
export async function saveRuleFile(ws: Workspace, file: string): Promise<SavedSegment[]> {
  const segments = readRuleFile(file, { eventNames: await workspaceEventNames(ws) });
  const saved: SavedSegment[] = [];
  for (const segment of segments) saved.push(await saveSegment(ws, segment, true));
  return saved;
}
