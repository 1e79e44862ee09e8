import { BEHAVIORAL_SEGMENTS } from '../scoring/segment-sql.js';
import { UserInputError, noProgress, type ProgressReporter, type Workspace } from '../workspace/index.js';
import { ensureSegmentTables } from './definitions.js';
import { SMALL_SEGMENT_USERS } from './evaluate.js';
import { ensureHistory, snapshotPeriods, type BackfillRequest, type Period, type SnapshotPeriod, type WeekDay } from './snapshots.js';

/** The behavioural segment of users with no event before the as-of date. */
const NEVER_ACTIVE = 'inactive';
/** The behavioural segment of users with past activity and none in the last 30 days. */
const LAPSED = 'dormant';
/** Matrix row of users who were absent or never active at the first date. */
export const NEW_STATE = '(new)';
/** Matrix column of users who are absent, never active or dormant at the second date. */
export const CHURNED_STATE = '(churned)';

export interface HistoryRequest extends BackfillRequest {
  /** Segment ids to report; default every behavioural segment. */
  readonly segments?: readonly string[];
  /** First and last period keys to include, inclusive. */
  readonly from?: string;
  readonly to?: string;
}

export interface HistorySeries {
  readonly segment: string;
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
  readonly warnings: string[];
}

function checkSegmentIds(segments: readonly string[] | undefined): string[] {
  const known = BEHAVIORAL_SEGMENTS.map((segment) => segment.id);
  for (const segment of segments ?? []) {
    if (!known.includes(segment)) {
      throw new UserInputError(
        `Unknown behavioural segment "${segment}" for history: use ${known.join(', ')}. Rule segments get one point per evaluation, listed under evaluations.`,
      );
    }
  }
  return segments && segments.length > 0 ? [...segments] : known;
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

/**
 * Sizes of every behavioural segment at every snapshot period, backfilling first when
 * the stored snapshots are missing or stale, plus the stored evaluations of rule segments.
 */
export async function segmentHistory(ws: Workspace, request: HistoryRequest = {}, reporter: ProgressReporter = noProgress): Promise<HistoryResult> {
  const period = request.period ?? 'week';
  const segments = checkSegmentIds(request.segments);
  const { backfilledNow, weekStart } = await ensureHistory(ws, request, reporter);
  const periods = selectPeriods(await snapshotPeriods(ws, period), request.from, request.to);

  const rows = await ws.query<{ period_key: string; segment: string; n: number }>(
    `SELECT s.period_key, s.segment, count(*) AS n
     FROM segment_snapshots s JOIN snapshot_dates d ON d.period = $1 AND d.period_key = s.period_key AND d.as_of = s.as_of
     GROUP BY s.period_key, s.segment`,
    [period],
  );
  const counts = new Map(rows.map((row) => [`${row.period_key}\u0000${row.segment}`, row.n]));
  const warnings: string[] = [];
  const series = segments.map((segment) => {
    const sizes = periods.map((p) => counts.get(`${p.periodKey}\u0000${segment}`) ?? 0);
    const small = periods.filter((_, i) => sizes[i] < SMALL_SEGMENT_USERS).length;
    const warning =
      small > 0 ? `Segment "${segment}" has fewer than ${SMALL_SEGMENT_USERS} members in ${small} of ${periods.length} periods; its changes there are noisy.` : undefined;
    if (warning) warnings.push(warning);
    return { segment, sizes, ...(warning ? { warning } : {}) };
  });

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
    warnings,
  };
}

export interface TransitionRequest extends BackfillRequest {
  /** Period key of the first snapshot; default the second-to-last period. */
  readonly from?: string;
  /** Period key of the second snapshot; default the last period. */
  readonly to?: string;
}

export interface TransitionCell {
  readonly from: string;
  readonly to: string;
  readonly users: number;
  /** users divided by every user in the same `from` row, 0-1. */
  readonly rowShare: number;
}

export interface TransitionResult {
  readonly period: Period;
  readonly weekStart: WeekDay;
  readonly backfilledNow: boolean;
  readonly from: SnapshotPeriod;
  readonly to: SnapshotPeriod;
  /** Row states: each active segment, dormant, and NEW_STATE. Column states: each active segment and CHURNED_STATE. */
  readonly rows: string[];
  readonly columns: string[];
  /** Non-empty cells, row by row. */
  readonly cells: TransitionCell[];
  readonly rowTotals: Record<string, number>;
  readonly newUsers: number;
  /** Users who moved into CHURNED_STATE from any state but dormant. */
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

  const rows = await ws.query<{ from_state: string; to_state: string; never_active: boolean; n: number }>(
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
  const neverActive = rows.filter((row) => row.never_active).reduce((total, row) => total + row.n, 0);
  const counted = rows.filter((row) => !row.never_active);

  const rowTotals: Record<string, number> = Object.fromEntries(rowStates.map((state) => [state, 0]));
  for (const row of counted) rowTotals[row.from_state] = (rowTotals[row.from_state] ?? 0) + row.n;
  const order = (list: string[], state: string) => list.indexOf(state);
  const cells = counted
    .map((row) => ({
      from: row.from_state,
      to: row.to_state,
      users: row.n,
      rowShare: rowTotals[row.from_state] > 0 ? row.n / rowTotals[row.from_state] : 0,
    }))
    .sort((x, y) => order(rowStates, x.from) - order(rowStates, y.from) || order(columnStates, x.to) - order(columnStates, y.to));

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
