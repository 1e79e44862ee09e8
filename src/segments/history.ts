import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { BEHAVIORAL_SEGMENTS } from '../scoring/segment-sql.js';
import { UserInputError, noProgress, type ProgressReporter, type Workspace } from '../workspace/index.js';
import { allSegments, ensureSegmentTables } from './definitions.js';
import { SMALL_SEGMENT_USERS } from './evaluate.js';
import {
  RULE_SNAPSHOTS_TABLE,
  ensureHistory,
  ensureRuleSnapshotTable,
  ruleSnapshotStatus,
  snapshotPeriods,
  type BackfillRequest,
  type Period,
  type SkippedSegment,
  type SnapshotPeriod,
  type WeekDay,
} from './snapshots.js';

/** The behavioural segment of users with no event before the as-of date. */
const NEVER_ACTIVE = 'inactive';
/** The behavioural segment of users with past activity and none in the last 30 days. */
const LAPSED = 'dormant';
/** Matrix row of users who were absent or never active at the first date. */
export const NEW_STATE = '(new)';
/** Matrix column of users who are absent, never active or dormant at the second date. */
export const CHURNED_STATE = '(churned)';
/** Row and column of users in none of the rule segments a transition request lists. */
export const NONE_STATE = '(none)';

export interface HistoryRequest extends BackfillRequest {
  /**
   * Behavioural segment ids and built-in or saved rule segment names to report; default every
   * behavioural segment. A behavioural id matches exactly and wins over a rule segment of the same name.
   */
  readonly segments?: readonly string[];
  /** First and last period keys to include, inclusive. */
  readonly from?: string;
  readonly to?: string;
}

export interface HistorySeries {
  readonly segment: string;
  readonly kind: 'behavioral' | 'builtin' | 'saved';
  /** Members at each period, aligned with `periods`. */
  readonly sizes: number[];
  readonly warning?: string;
}

export interface RuleSegmentPoint {
  readonly segment: string;
  readonly asOf: string;
  readonly size: number;
}

export interface HistoryResult {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly backfilledNow: boolean;
  readonly periods: SnapshotPeriod[];
  readonly series: HistorySeries[];
  /** Sizes of rule segments at each as-of date they were evaluated (define_segment, list_segments). */
  readonly evaluations: RuleSegmentPoint[];
  /** Rule segments with a series at every period; pass their names in `segments`. */
  readonly ruleSegmentsWithHistory: string[];
  /** Requested rule segments that have no series, each with the reason (e.g. it reads scores). */
  readonly withoutHistory: SkippedSegment[];
  readonly warnings: string[];
}

interface RequestedSegment {
  readonly segment: string;
  readonly kind: HistorySeries['kind'];
}

const BEHAVIORAL_IDS = BEHAVIORAL_SEGMENTS.map((segment) => segment.id);

/**
 * Resolves requested names to behavioural ids (exact match) or rule segment names (without
 * regard to case or surrounding spaces); default every behavioural segment.
 */
async function resolveHistorySegments(ws: Workspace, segments: readonly string[] | undefined): Promise<RequestedSegment[]> {
  if (!segments || segments.length === 0) return BEHAVIORAL_IDS.map((segment) => ({ segment, kind: 'behavioral' }));
  const rules = await allSegments(ws);
  return segments.map((requested): RequestedSegment => {
    if (BEHAVIORAL_IDS.includes(requested)) return { segment: requested, kind: 'behavioral' };
    const rule = rules.find((candidate) => candidate.name.trim().toLowerCase() === requested.trim().toLowerCase());
    if (rule) return { segment: rule.name, kind: rule.kind };
    throw new UserInputError(
      `Unknown behavioural segment "${requested}" for history, and no built-in or saved rule segment has that name: use one of ` +
        `${BEHAVIORAL_IDS.join(', ')}, or a rule segment name from list_segments.`,
    );
  });
}

function selectPeriods(periods: SnapshotPeriod[], from: string | undefined, to: string | undefined): SnapshotPeriod[] {
  const index = (key: string, bound: 'from' | 'to') => {
    const found = periods.findIndex((period) => period.periodKey === key);
    if (found < 0) {
      const range = periods.length > 0 ? `${periods[0].periodKey} to ${periods.at(-1)?.periodKey}` : 'none';
      throw new UserInputError(`Unknown ${bound} period "${key}": the stored periods run from ${range}.`);
    }
    return found;
  };
  const start = from ? index(from, 'from') : 0;
  const end = to ? index(to, 'to') : periods.length - 1;
  if (start > end) throw new UserInputError(`The from period "${from}" comes after the to period "${to}"; swap them.`);
  return periods.slice(start, end + 1);
}

/** Counts the members of every segment at every period of one kind, keyed by period key and segment. */
async function snapshotCounts(ws: Workspace, table: string, period: Period): Promise<Map<string, number>> {
  const rows = await ws.query<{ period_key: string; segment: string; n: number }>(
    `SELECT s.period_key, s.segment, count(*) AS n
     FROM ${table} s JOIN snapshot_dates d ON d.period = $1 AND d.period_key = s.period_key AND d.as_of = s.as_of
     GROUP BY s.period_key, s.segment`,
    [period],
  );
  return new Map(rows.map((row) => [`${row.period_key}\u0000${row.segment}`, row.n]));
}

/**
 * Sizes of behavioural segments, and of requested rule segments that have per-date inputs,
 * at every snapshot period, backfilling first when the stored snapshots are missing or stale.
 * Also returns the stored evaluations of rule segments at the as-of days they were evaluated.
 */
export async function segmentHistory(ws: Workspace, request: HistoryRequest = {}, reporter: ProgressReporter = noProgress): Promise<HistoryResult> {
  const period = request.period ?? 'week';
  const segments = await resolveHistorySegments(ws, request.segments);
  const { backfilledNow, weekStart } = await ensureHistory(ws, request, reporter);
  const periods = selectPeriods(await snapshotPeriods(ws, period), request.from, request.to);

  await ensureRuleSnapshotTable(ws);
  const status = await ruleSnapshotStatus(ws, period);
  const behavioralCounts = await snapshotCounts(ws, 'segment_snapshots', period);
  const ruleCounts = await snapshotCounts(ws, RULE_SNAPSHOTS_TABLE, period);
  const withoutHistory: SkippedSegment[] = [];
  const warnings: string[] = [];
  const series: HistorySeries[] = [];
  for (const { segment, kind } of segments) {
    if (kind !== 'behavioral' && !status.stored.includes(segment)) {
      const skipped = status.skipped.find((entry) => entry.segment === segment);
      withoutHistory.push(skipped ?? { segment, reason: `Segment "${segment}" has no history: it was not part of the last backfill; run backfill_history.` });
      continue;
    }
    const counts = kind === 'behavioral' ? behavioralCounts : ruleCounts;
    const sizes = periods.map((p) => counts.get(`${p.periodKey}\u0000${segment}`) ?? 0);
    const small = periods.filter((_, i) => sizes[i] < SMALL_SEGMENT_USERS).length;
    const warning =
      small > 0 ? `Segment "${segment}" has fewer than ${SMALL_SEGMENT_USERS} members in ${small} of ${periods.length} periods; its changes there are noisy.` : undefined;
    if (warning) warnings.push(warning);
    series.push({ segment, kind, sizes, ...(warning ? { warning } : {}) });
  }

  await ensureSegmentTables(ws);
  const evaluations = await ws.query<{ segment: string; as_of: string; size: number }>(
    'SELECT segment, as_of::VARCHAR AS as_of, size FROM segment_sizes ORDER BY segment, as_of',
  );
  return {
    period,
    weekStart,
    backfilledNow,
    periods,
    series,
    evaluations: evaluations.map((row) => ({ segment: row.segment, asOf: row.as_of, size: row.size })),
    ruleSegmentsWithHistory: [...status.stored],
    withoutHistory,
    warnings,
  };
}

export interface TransitionRequest extends BackfillRequest {
  /** Period key of the first snapshot; default the second-to-last period. */
  readonly from?: string;
  /** Period key of the second snapshot; default the last period. */
  readonly to?: string;
  /**
   * Rule segment names, in priority order, to use instead of the behavioural partition. Rule
   * segments may overlap, so each user is put in the first listed segment that contains them at
   * each date, or in NONE_STATE.
   */
  readonly segments?: readonly string[];
}

export interface TransitionCell {
  readonly from: string;
  readonly to: string;
  readonly users: number;
  /** users divided by every user in the same `from` row, 0-1. */
  readonly rowShare: number;
}

/** One aggregated transition count, as the matrix queries return it. */
interface TransitionRow {
  readonly from_state: string;
  readonly to_state: string;
  readonly never_active: boolean;
  readonly n: number;
}

/**
 * Turns the aggregated counts into matrix cells with row shares, in the order of the row
 * and column states. Users never active at either date are counted apart.
 */
function matrixCells(rows: readonly TransitionRow[], rowStates: readonly string[], columnStates: readonly string[]) {
  const neverActive = rows.filter((row) => row.never_active).reduce((total, row) => total + row.n, 0);
  const counted = rows.filter((row) => !row.never_active);
  const rowTotals: Record<string, number> = Object.fromEntries(rowStates.map((state) => [state, 0]));
  for (const row of counted) rowTotals[row.from_state] = (rowTotals[row.from_state] ?? 0) + row.n;

  const order = (list: readonly string[], state: string) => list.indexOf(state);
  const cells: TransitionCell[] = counted
    .map((row) => ({
      from: row.from_state,
      to: row.to_state,
      users: row.n,
      rowShare: rowTotals[row.from_state] > 0 ? row.n / rowTotals[row.from_state] : 0,
    }))
    .sort((x, y) => order(rowStates, x.from) - order(rowStates, y.from) || order(columnStates, x.to) - order(columnStates, y.to));
  return { neverActive, rowTotals, cells };
}


export interface TransitionResult {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly backfilledNow: boolean;
  readonly from: SnapshotPeriod;
  readonly to: SnapshotPeriod;
  /**
   * Row states: each active segment, dormant, and NEW_STATE. Column states: each active segment and CHURNED_STATE.
   * With `segments`: the listed segments and NONE_STATE, plus NEW_STATE in the rows.
   */
  readonly rows: string[];
  readonly columns: string[];
  /** Non-empty cells, row by row. */
  readonly cells: TransitionCell[];
  readonly rowTotals: Record<string, number>;
  readonly newUsers: number;
  /** Users who moved into CHURNED_STATE from any state but dormant; always 0 with `segments`, which has no CHURNED_STATE. */
  readonly churnedUsers: number;
  /** Users in the same segment at both dates (dormant at both included). */
  readonly stayed: number;
  /** Users with no event before either date; left out of the matrix. */
  readonly neverActive: number;
  readonly warnings: string[];
}

/**
 * Counts the from → to matrix of behavioural segments between two snapshot periods. A user
 * absent or never active at the first date is in the NEW_STATE row. A user absent, never
 * active or dormant at the second date is in the CHURNED_STATE column: snapshot users
 * never disappear once seen, so lapsing into dormant is how churn shows. Users never
 * active at either date are left out and counted in `neverActive`.
 */
export async function segmentTransitions(
  ws: Workspace,
  request: TransitionRequest = {},
  reporter: ProgressReporter = noProgress,
): Promise<TransitionResult> {
  const period = request.period ?? 'week';
  const { backfilledNow, weekStart } = await ensureHistory(ws, request, reporter);
  const periods = await snapshotPeriods(ws, period);
  if (periods.length < 2 && (request.from === undefined || request.to === undefined)) {
    throw new UserInputError(
      `The data covers ${periods.length} ${period}${periods.length === 1 ? '' : 's'}; transitions need two. Use a shorter period or load more history.`,
    );
  }
  const find = (key: string, bound: 'from' | 'to') => {
    const found = periods.find((p) => p.periodKey === key);
    if (!found) {
      throw new UserInputError(`Unknown ${bound} period "${key}": the stored periods run from ${periods[0]?.periodKey} to ${periods.at(-1)?.periodKey}.`);
    }
    return found;
  };
  const from = request.from !== undefined ? find(request.from, 'from') : periods[periods.length - 2];
  const to = request.to !== undefined ? find(request.to, 'to') : periods[periods.length - 1];
  if (from.asOf >= to.asOf) {
    throw new UserInputError(`The from period "${from.periodKey}" must come before the to period "${to.periodKey}".`);
  }
  if (request.segments !== undefined && request.segments.length > 0) {
    const segments = await checkTransitionSegments(ws, period, request.segments);
    return ruleTransitions(ws, { period, weekStart, backfilledNow, from, to }, segments);
  }

  const rows = await ws.query<TransitionRow & Record<string, unknown>>(
    `WITH a AS (SELECT user_id, segment FROM segment_snapshots WHERE period_key = $from AND as_of = CAST($from_as_of AS DATE)),
     b AS (SELECT user_id, segment FROM segment_snapshots WHERE period_key = $to AND as_of = CAST($to_as_of AS DATE))
     SELECT
       CASE WHEN a.segment IS NULL OR a.segment = $never THEN $new ELSE a.segment END AS from_state,
       CASE WHEN b.segment IS NULL OR b.segment IN ($never, $lapsed) THEN $churned ELSE b.segment END AS to_state,
       coalesce(a.segment, $never) = $never AND coalesce(b.segment, $never) = $never AS never_active,
       count(*) AS n
     FROM a FULL JOIN b ON a.user_id = b.user_id
     GROUP BY ALL`,
    {
      from: from.periodKey,
      from_as_of: from.asOf,
      to: to.periodKey,
      to_as_of: to.asOf,
      never: NEVER_ACTIVE,
      lapsed: LAPSED,
      new: NEW_STATE,
      churned: CHURNED_STATE,
    },
  );

  const segmentIds = BEHAVIORAL_SEGMENTS.map((segment) => segment.id).filter((id) => id !== NEVER_ACTIVE);
  const rowStates = [...segmentIds, NEW_STATE];
  const columnStates = [...segmentIds.filter((id) => id !== LAPSED), CHURNED_STATE];
  const { neverActive, rowTotals, cells } = matrixCells(rows, rowStates, columnStates);

  const sum = (predicate: (cell: TransitionCell) => boolean) => cells.filter(predicate).reduce((total, cell) => total + cell.users, 0);
  // Cells with the same from and to state; a dormant user stays dormant by moving to CHURNED_STATE.
  const stayed = sum((cell) => cell.from === cell.to || (cell.from === LAPSED && cell.to === CHURNED_STATE));
  const warnings = rowStates
    .filter((state) => rowTotals[state] > 0 && rowTotals[state] < SMALL_SEGMENT_USERS)
    .map((state) => `Row "${state}" holds ${rowTotals[state]} users, fewer than ${SMALL_SEGMENT_USERS}: its shares are noisy.`);
  return {
    period,
    weekStart,
    backfilledNow,
    from,
    to,
    rows: rowStates,
    columns: columnStates,
    cells,
    rowTotals,
    newUsers: sum((cell) => cell.from === NEW_STATE),
    churnedUsers: sum((cell) => cell.to === CHURNED_STATE && cell.from !== LAPSED),
    stayed,
    neverActive,
    warnings,
  };
}

/**
 * Resolves the rule segments of a transition request: each must be a built-in or saved rule
 * segment with snapshots, listed once.
 */
async function checkTransitionSegments(ws: Workspace, period: Period, requested: readonly string[]): Promise<string[]> {
  const rules = await allSegments(ws);
  const status = await ruleSnapshotStatus(ws, period);
  const names: string[] = [];
  for (const name of requested) {
    if (BEHAVIORAL_IDS.includes(name)) {
      throw new UserInputError(
        `"${name}" is a behavioural segment id; segments takes rule segment names only. Leave segments out for the behavioural partition.`,
      );
    }
    const rule = rules.find((candidate) => candidate.name.trim().toLowerCase() === name.trim().toLowerCase());
    if (!rule) throw new UserInputError(`Unknown segment "${name}": use a built-in or saved rule segment name from list_segments.`);
    if (!status.stored.includes(rule.name)) {
      const skipped = status.skipped.find((entry) => entry.segment === rule.name);
      throw new UserInputError(skipped?.reason ?? `Segment "${rule.name}" has no history yet; run backfill_history.`);
    }
    if (names.includes(rule.name)) throw new UserInputError(`Segment "${rule.name}" is listed twice in segments; list each segment once.`);
    names.push(rule.name);
  }
  return names;
}

interface TransitionFrame {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly backfilledNow: boolean;
  readonly from: SnapshotPeriod;
  readonly to: SnapshotPeriod;
}

/**
 * Counts the from → to matrix over a priority partition of rule segments: at each date a user
 * is in the first listed segment that contains them, otherwise in NONE_STATE. A user absent from
 * the first date's snapshot is in the NEW_STATE row. As in the behavioural matrix, users with
 * no event before either date are left out and counted in `neverActive`.
 */
async function ruleTransitions(ws: Workspace, frame: TransitionFrame, segments: readonly string[]): Promise<TransitionResult> {
  const rows = await ws.query<TransitionRow & Record<string, unknown>>(
    `WITH a AS (SELECT user_id, segment FROM segment_snapshots WHERE period_key = $from AND as_of = CAST($from_as_of AS DATE)),
     b AS (SELECT user_id, segment FROM segment_snapshots WHERE period_key = $to AND as_of = CAST($to_as_of AS DATE)),
     ra AS (
       SELECT user_id, min(list_position($segments, segment)) AS rank FROM ${RULE_SNAPSHOTS_TABLE}
       WHERE period_key = $from AND as_of = CAST($from_as_of AS DATE) AND list_contains($segments, segment)
       GROUP BY user_id
     ),
     rb AS (
       SELECT user_id, min(list_position($segments, segment)) AS rank FROM ${RULE_SNAPSHOTS_TABLE}
       WHERE period_key = $to AND as_of = CAST($to_as_of AS DATE) AND list_contains($segments, segment)
       GROUP BY user_id
     ),
     population AS (SELECT coalesce(a.user_id, b.user_id) AS user_id, a.segment AS from_segment, b.segment AS to_segment FROM a FULL JOIN b ON a.user_id = b.user_id)
     SELECT
       CASE WHEN u.from_segment IS NULL THEN $new WHEN ra.rank IS NULL THEN $none ELSE $segments[ra.rank] END AS from_state,
       CASE WHEN rb.rank IS NULL THEN $none ELSE $segments[rb.rank] END AS to_state,
       coalesce(u.from_segment, $never) = $never AND coalesce(u.to_segment, $never) = $never AS never_active,
       count(*) AS n
     FROM population u
     LEFT JOIN ra ON ra.user_id = u.user_id
     LEFT JOIN rb ON rb.user_id = u.user_id
     GROUP BY ALL`,
    {
      from: frame.from.periodKey,
      from_as_of: frame.from.asOf,
      to: frame.to.periodKey,
      to_as_of: frame.to.asOf,
      segments: listValue([...segments]),
      never: NEVER_ACTIVE,
      new: NEW_STATE,
      none: NONE_STATE,
    },
    { segments: LIST(VARCHAR) },
  );

  const rowStates = [...segments, NONE_STATE, NEW_STATE];
  const columnStates = [...segments, NONE_STATE];
  const { neverActive, rowTotals, cells } = matrixCells(rows, rowStates, columnStates);
  const sum = (predicate: (cell: TransitionCell) => boolean) => cells.filter(predicate).reduce((total, cell) => total + cell.users, 0);
  const warnings = rowStates
    .filter((state) => rowTotals[state] > 0 && rowTotals[state] < SMALL_SEGMENT_USERS)
    .map((state) => `Row "${state}" holds ${rowTotals[state]} users, fewer than ${SMALL_SEGMENT_USERS}: its shares are noisy.`);
  return {
    ...frame,
    rows: rowStates,
    columns: columnStates,
    cells,
    rowTotals,
    newUsers: sum((cell) => cell.from === NEW_STATE),
    churnedUsers: 0,
    stayed: sum((cell) => cell.from === cell.to),
    neverActive,
    warnings,
  };
}
