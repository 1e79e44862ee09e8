import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { RuleError, Source, compileSegment, type CompileContext, type CompiledSegment, type SegmentNode } from '../rules/index.js';
import type { ScoringRun } from '../scoring/compute.js';
import { loadSettings } from '../scoring/store.js';
import { UserInputError, log, type Workspace } from '../workspace/index.js';
import {
  RuleErrorList,
  allSegments,
  ensureSegmentTables,
  parseOneSegment,
  resolveSegment,
  workspaceEventNames,
  type RuleSegment,
} from './definitions.js';

/** Below this many members a segment result carries a warning: too few users to act on or compare. */
export const SMALL_SEGMENT_USERS = 100;

/** One segment's result of an evaluation. */
export interface SegmentEvaluation {
  readonly name: string;
  readonly kind: 'builtin' | 'saved';
  readonly size: number;
  /** Members divided by every scored user, 0-1. */
  readonly share: number;
  /** Set when the segment could not be evaluated (e.g. it reads a table that is not loaded). */
  readonly error?: string;
  readonly warning?: string;
}

export interface EvaluationResult {
  /** Last calendar day included, as in the scoring run. */
  readonly asOf: string;
  readonly users: number;
  readonly segments: SegmentEvaluation[];
}

/** The meta entry that records which scoring run the stored memberships belong to. */
interface EvaluationStamp {
  readonly asOf: string;
  readonly computedAt: string;
  /** Error per segment that could not be evaluated. */
  readonly errors: Record<string, string>;
}

const EVALUATION_META = 'segment_evaluation';

/** Returns the latest scoring run; throws a UserInputError asking for compute_scores when there is none. */
export async function requireScores(ws: Workspace): Promise<ScoringRun> {
  const run = await ws.getMeta<ScoringRun>('scoring');
  if (!run || !(await ws.tableExists('user_metrics')) || !(await ws.tableExists('user_scores'))) {
    throw new UserInputError('No scores yet: run compute_scores first, then evaluate segments.');
  }
  return run;
}

/** Returns the warning for a segment with fewer than {@link SMALL_SEGMENT_USERS} members, or undefined for a larger one. */
export function smallSegmentWarning(name: string, size: number): string | undefined {
  if (size >= SMALL_SEGMENT_USERS) return undefined;
  return `Segment "${name}" has ${size} member${size === 1 ? '' : 's'}, fewer than ${SMALL_SEGMENT_USERS}: shares and comparisons on it are unreliable.`;
}

/** Builds the compile context of the current scoring run, whose windows end at its boundary date. */
async function compileContext(ws: Workspace, run: ScoringRun): Promise<CompileContext> {
  const settings = await loadSettings(ws);
  return { asOf: run.boundaryDate, nonFeatureEvents: settings.events.nonFeature, eventNames: await workspaceEventNames(ws) };
}

/** Compiles a segment against the current scoring run. */
export async function compileForRun(ws: Workspace, run: ScoringRun, ast: SegmentNode): Promise<CompiledSegment> {
  return compileSegment(ast, await compileContext(ws, run));
}

async function countUsers(ws: Workspace): Promise<number> {
  const row = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM user_metrics');
  return row?.n ?? 0;
}

/**
 * Evaluates built-in and saved segments against the current scores and stores their
 * members in `segment_members` under the scoring run's as-of date. Each segment's rows
 * for that date are replaced in a transaction of its own, because DuckDB aborts a whole
 * transaction after a failed statement. A segment that fails (e.g. it reads `users` and
 * no users file is loaded) is reported with its error and keeps no rows for that date.
 */
export async function evaluateSegments(ws: Workspace, options: { names?: readonly string[] } = {}): Promise<EvaluationResult> {
  const run = await requireScores(ws);
  await ensureSegmentTables(ws);
  const segments = options.names ? await Promise.all(options.names.map((name) => resolveSegment(ws, name))) : await allSegments(ws);
  const users = await countUsers(ws);
  const results: SegmentEvaluation[] = [];

  const context = await compileContext(ws, run);
  for (const segment of segments) results.push(await evaluateOne(ws, run, context, segment, users));
  if (!options.names) {
    await ws.transaction(async () => {
      // A full evaluation also drops rows of segments deleted since the last one.
      for (const table of ['segment_members', 'segment_sizes']) {
        await ws.run(
          `DELETE FROM ${table} WHERE as_of = CAST($as_of AS DATE) AND NOT list_contains($names, segment)`,
          { as_of: run.asOf, names: listValue(segments.map((segment) => segment.name)) },
          { names: LIST(VARCHAR) },
        );
      }
      const errors = Object.fromEntries(results.filter((r) => r.error !== undefined).map((r) => [r.name, r.error ?? '']));
      await ws.setMeta(EVALUATION_META, { asOf: run.asOf, computedAt: run.computedAt, errors } satisfies EvaluationStamp);
    });
  }
  log.info('segments evaluated', { asOf: run.asOf, segments: results.length });
  return { asOf: run.asOf, users, segments: results };
}

async function evaluateOne(
  ws: Workspace,
  run: ScoringRun,
  context: CompileContext,
  segment: RuleSegment,
  users: number,
): Promise<SegmentEvaluation> {
  const clear = async () => {
    await ws.run('DELETE FROM segment_members WHERE as_of = CAST($1 AS DATE) AND segment = $2', [run.asOf, segment.name]);
    await ws.run('DELETE FROM segment_sizes WHERE as_of = CAST($1 AS DATE) AND segment = $2', [run.asOf, segment.name]);
  };
  let compiled: CompiledSegment;
  try {
    compiled = compileSegment(segment.ast, context);
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    log.warn('segment no longer checks', { segment: segment.name, error: error.message });
    await clear();
    return failed(segment, `The rule no longer checks against this workspace: ${error.message}`);
  }
  const n = compiled.params.length;
  try {
    await ws.transaction(async () => {
      await clear();
      await ws.run(
        `INSERT INTO segment_members (as_of, segment, user_id)
         SELECT CAST($${n + 1} AS DATE), $${n + 2}, members.user_id FROM (${compiled.sql}) AS members`,
        [...compiled.params, run.asOf, segment.name] as never,
      );
      await ws.run(
        `INSERT INTO segment_sizes (as_of, segment, size)
         SELECT CAST($1 AS DATE), $2, count(*) FROM segment_members WHERE as_of = CAST($1 AS DATE) AND segment = $2`,
        [run.asOf, segment.name],
      );
    });
  } catch (error) {
    log.warn('segment evaluation failed', { segment: segment.name, error: String(error) });
    await clear();
    return failed(segment, `The segment could not be evaluated: ${(error as Error).message}`);
  }
  const row = await ws.queryOne<{ n: number }>(
    'SELECT size AS n FROM segment_sizes WHERE as_of = CAST($1 AS DATE) AND segment = $2',
    [run.asOf, segment.name],
  );
  const size = row?.n ?? 0;
  const warning = smallSegmentWarning(segment.name, size);
  return { name: segment.name, kind: segment.kind, size, share: users > 0 ? size / users : 0, ...(warning ? { warning } : {}) };
}

function failed(segment: RuleSegment, error: string): SegmentEvaluation {
  return { name: segment.name, kind: segment.kind, size: 0, share: 0, error };
}

/**
 * Evaluates every segment when the stored memberships do not belong to the latest scoring
 * run (none yet, or scores recomputed since). Returns the as-of date of the memberships.
 */
export async function ensureEvaluated(
  ws: Workspace,
): Promise<{ asOf: string; evaluatedNow: boolean; errors: Record<string, string>; result?: EvaluationResult }> {
  const run = await requireScores(ws);
  const stamp = await ws.getMeta<EvaluationStamp>(EVALUATION_META);
  if (stamp && stamp.asOf === run.asOf && stamp.computedAt === run.computedAt) {
    return { asOf: run.asOf, evaluatedNow: false, errors: stamp.errors ?? {} };
  }
  const result = await evaluateSegments(ws);
  const errors = Object.fromEntries(result.segments.filter((r) => r.error !== undefined).map((r) => [r.name, r.error ?? '']));
  return { asOf: run.asOf, evaluatedNow: true, errors, result };
}

/** SQL selecting `user_id` with named parameters, the shape of `UserFilter.memberQuery`. */
export interface MemberQuery {
  readonly sql: string;
  readonly params: Record<string, unknown>;
}

/**
 * Rewrites a compiled segment's positional parameters (`$1`) as named ones (`$rule_1`),
 * so that it can join a query whose other filters use names. The compiler binds every
 * value from the rule text as a parameter, so a `$` followed by digits in its SQL is
 * always a placeholder.
 */
export function toMemberQuery(compiled: CompiledSegment, prefix = 'rule_'): MemberQuery {
  const sql = compiled.sql.replace(/\$(\d+)\b/g, (_match, index: string) => `$${prefix}${index}`);
  const params: Record<string, unknown> = {};
  compiled.params.forEach((value, index) => {
    params[`${prefix}${index + 1}`] = value;
  });
  return { sql, params };
}

/** Name of the source an inline condition is reported under. */
export const CONDITION_SOURCE = 'condition';

/**
 * Wraps the text of a conditions block into a segment and checks it. Errors point into
 * the condition text itself (line 1 is its first line), not into the wrapper.
 */
export async function parseCondition(ws: Workspace, condition: string): Promise<SegmentNode> {
  if (condition.trim() === '') throw new UserInputError('The condition is empty; write a rule expression such as user.plan = "pro".');
  const prefix = 'segment "condition" {\nconditions {\n';
  const wrapped = `${prefix}${condition}\n}\n}\n`;
  try {
    return parseOneSegment(wrapped, CONDITION_SOURCE, { eventNames: await workspaceEventNames(ws) });
  } catch (error) {
    if (error instanceof RuleErrorList) {
      const source = new Source(condition, CONDITION_SOURCE);
      const clamp = (offset: number) => Math.min(Math.max(offset - prefix.length, 0), condition.length);
      throw new RuleErrorList(error.errors.map((e) => new RuleError(source, clamp(e.start), clamp(e.end), e.description)));
    }
    if (error instanceof UserInputError && /defines \d+ segments/.test(error.message)) {
      throw new UserInputError('The condition closes its block early: write only the expression inside conditions { … }, without braces.');
    }
    throw error;
  }
}

/**
 * Compiles the member query for find_users from a built-in or saved segment name, or
 * from an inline condition, against the current scores.
 */
export async function segmentMemberQuery(
  ws: Workspace,
  request: { readonly segmentName?: string; readonly condition?: string },
): Promise<MemberQuery | undefined> {
  if (request.segmentName !== undefined && request.condition !== undefined) {
    throw new UserInputError('Pass either segmentName or condition, not both.');
  }
  if (request.segmentName === undefined && request.condition === undefined) return undefined;
  const run = await requireScores(ws);
  const ast =
    request.segmentName !== undefined ? (await resolveSegment(ws, request.segmentName)).ast : await parseCondition(ws, request.condition ?? '');
  return toMemberQuery(await compileForRun(ws, run, ast));
}
