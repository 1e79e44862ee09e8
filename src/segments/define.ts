import { findUsers, type FoundUser } from '../scoring/find.js';
import type { Workspace } from '../workspace/index.js';
import { parseOneSegment, saveSegment, workspaceEventNames } from './definitions.js';
import { evaluateSegments } from './evaluate.js';

/** Members define_segment shows as a sample. */
export const SAMPLE_SIZE = 10;

/** Source name rule errors of define_segment are reported under. */
export const DEFINE_SOURCE = 'define_segment';

export interface DefineRequest {
  /** Rule text of exactly one segment. */
  readonly rule: string;
  /** Overwrite a saved segment of the same name. */
  readonly replace?: boolean;
}

export interface DefineResult {
  readonly name: string;
  readonly replaced: boolean;
  /** The rule as stored, printed canonically. */
  readonly canonical: string;
  /** Null when there are no scores to evaluate against yet. */
  readonly asOf: string | null;
  readonly size: number | null;
  readonly share: number | null;
  readonly users: number | null;
  readonly sample: FoundUser[];
  readonly warnings: string[];
}

/**
 * Checks one segment against the catalogue and the workspace's events, saves it, and,
 * when scores exist, evaluates it and returns its size, share and a sample of members
 * with the reasons from their scores. Every rule error is reported at once.
 */
export async function defineSegment(ws: Workspace, request: DefineRequest): Promise<DefineResult> {
  const ast = parseOneSegment(request.rule, DEFINE_SOURCE, { eventNames: await workspaceEventNames(ws) });
  const saved = await saveSegment(ws, ast, request.replace ?? false);
  const base = { name: saved.name, replaced: saved.replaced, canonical: saved.canonical };

  if (!(await ws.getMeta('scoring')) || !(await ws.tableExists('user_scores'))) {
    return {
      ...base,
      asOf: null,
      size: null,
      share: null,
      users: null,
      sample: [],
      warnings: ['Saved, but not evaluated: there are no scores yet. Run compute_scores, then list_segments or find_users.'],
    };
  }
  const evaluation = await evaluateSegments(ws, { names: [saved.name] });
  const result = evaluation.segments[0];
  if (result?.error) {
    return { ...base, asOf: evaluation.asOf, size: null, share: null, users: evaluation.users, sample: [], warnings: [result.error] };
  }
  const sample = await findUsers(ws, {
    memberQuery: {
      sql: 'SELECT user_id FROM segment_members WHERE as_of = CAST($member_as_of AS DATE) AND segment = $member_segment',
      params: { member_as_of: evaluation.asOf, member_segment: saved.name },
    },
    limit: SAMPLE_SIZE,
  });
  return {
    ...base,
    asOf: evaluation.asOf,
    size: result?.size ?? 0,
    share: result?.share ?? 0,
    users: evaluation.users,
    sample: sample.users,
    warnings: result?.warning ? [result.warning] : [],
  };
}
