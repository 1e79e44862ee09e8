import { createHash } from 'node:crypto';
import { UserInputError, quoteIdent, type Workspace } from '../workspace/index.js';
import type { ScoringRun } from './compute.js';
import { explainUsers, type UserExplanation } from './explain.js';

export const FIND_DEFAULT_LIMIT = 50;
export const FIND_MAX_LIMIT = 500;

/** Columns a user list can be ordered by. */
export const ORDER_COLUMNS = [
  'churn_risk_score',
  'engagement_score',
  'at_risk_signal_count',
  'days_since_last_active',
  'sessions_7d',
  'user_id',
] as const;
export type OrderColumn = (typeof ORDER_COLUMNS)[number];

/** Filters on the stored per-user results; all given filters must hold. */
export interface UserFilter {
  readonly behavioralSegment?: string;
  readonly engagementTier?: string;
  readonly churnRiskTier?: string;
  readonly rfmSegment?: string;
  readonly lifecycleStage?: string;
  readonly dormantSubsegment?: string;
  readonly activationTier?: string;
  readonly expansionTier?: string;
  readonly atRisk?: boolean;
  /** Extra member set: SQL that selects `user_id` with its own parameters (from a compiled segment rule). */
  readonly memberQuery?: { readonly sql: string; readonly params: Record<string, unknown> };
}

export interface FindRequest extends UserFilter {
  readonly orderBy?: OrderColumn;
  readonly descending?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface FoundUser {
  readonly userId: string;
  readonly behavioralSegment: string;
  readonly engagementScore: number | null;
  readonly engagementTier: string | null;
  readonly churnRiskScore: number | null;
  readonly churnRiskTier: string | null;
  readonly atRisk: boolean;
  readonly atRiskSignals: string[];
  readonly rfmCode: string;
  readonly daysSinceLastActive: number | null;
  readonly reasons: string[];
}

export interface FindResult {
  readonly asOf: string;
  readonly total: number;
  readonly users: FoundUser[];
  readonly nextCursor?: string;
}

const FILTER_COLUMNS: Record<Exclude<keyof UserFilter, 'memberQuery' | 'atRisk'>, string> = {
  behavioralSegment: 'behavioral_segment',
  engagementTier: 'engagement_tier',
  churnRiskTier: 'churn_risk_tier',
  rfmSegment: 'rfm_segment',
  lifecycleStage: 'lifecycle_stage',
  dormantSubsegment: 'dormant_subsegment',
  activationTier: 'activation_tier',
  expansionTier: 'expansion_tier',
};

function filterKey(request: FindRequest): string {
  const { cursor: _cursor, limit: _limit, ...rest } = request;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

export function encodeCursor(offset: number, key: string): string {
  return Buffer.from(JSON.stringify({ o: offset, k: key })).toString('base64url');
}

export function decodeCursor(cursor: string, key: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown; k?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.k === key) return parsed.o;
  } catch {
    // falls through to the error below
  }
  throw new UserInputError(
    `Invalid cursor "${cursor.slice(0, 40)}": it was not returned by this query with the same filters. ` +
      'Repeat the request without a cursor to start from the first page.',
  );
}

/** Builds `WHERE` conditions and named parameters for a filter over `user_scores s JOIN user_metrics m`. */
export async function filterSql(
  ws: Workspace,
  filter: UserFilter,
): Promise<{ where: string; params: Record<string, unknown> }> {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(FILTER_COLUMNS) as [keyof typeof FILTER_COLUMNS, string][]) {
    const value = filter[key];
    if (value === undefined) continue;
    const known = await ws.query<{ v: string }>(`SELECT DISTINCT ${quoteIdent(column)} AS v FROM user_scores WHERE v IS NOT NULL`);
    const values = known.map((row) => row.v).sort();
    if (!values.includes(value)) {
      throw new UserInputError(
        `Unknown ${column.replaceAll('_', ' ')} "${value}". Values present in this workspace: ${values.join(', ') || 'none'}.`,
      );
    }
    conditions.push(`s.${quoteIdent(column)} = $${key}`);
    params[key] = value;
  }
  if (filter.atRisk !== undefined) conditions.push(filter.atRisk ? 's.at_risk' : 'NOT s.at_risk');
  if (filter.memberQuery) {
    conditions.push(`s.user_id IN (${filter.memberQuery.sql})`);
    Object.assign(params, filter.memberQuery.params);
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** Lists users matching a filter, ordered and paged, each with the reasons it is there. */
export async function findUsers(ws: Workspace, request: FindRequest): Promise<FindResult> {
  const run = await ws.getMeta<ScoringRun>('scoring');
  if (!run || !(await ws.tableExists('user_scores'))) {
    throw new UserInputError('No scores yet: run compute_scores first.');
  }
  const limit = request.limit ?? FIND_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > FIND_MAX_LIMIT) {
    throw new UserInputError(`Invalid limit ${limit}: use a whole number from 1 to ${FIND_MAX_LIMIT}.`);
  }
  const key = filterKey(request);
  const offset = request.cursor ? decodeCursor(request.cursor, key) : 0;
  const orderBy = request.orderBy ?? 'churn_risk_score';
  if (!ORDER_COLUMNS.includes(orderBy)) {
    throw new UserInputError(`Cannot order by "${orderBy}". Use one of: ${ORDER_COLUMNS.join(', ')}.`);
  }
  const direction = (request.descending ?? orderBy !== 'user_id') ? 'DESC' : 'ASC';
  const { where, params } = await filterSql(ws, request);

  const from = 'FROM user_scores s JOIN user_metrics m USING (user_id)';
  const totalRow = await ws.queryOne<{ n: number }>(`SELECT count(*) AS n ${from} ${where}`, params as never);
  const total = totalRow?.n ?? 0;
  const orderColumn = orderBy === 'days_since_last_active' || orderBy === 'sessions_7d' ? `m.${orderBy}` : `s.${orderBy}`;
  const ids = await ws.query<{ user_id: string }>(
    `SELECT s.user_id ${from} ${where}
     ORDER BY ${orderColumn} ${direction} NULLS LAST, s.user_id ASC
     LIMIT ${limit} OFFSET ${offset}`,
    params as never,
  );
  const explanations = await explainUsers(ws, ids.map((row) => row.user_id));
  const users = explanations.map(toFoundUser);
  const nextOffset = offset + users.length;
  return {
    asOf: run.asOf,
    total,
    users,
    ...(nextOffset < total ? { nextCursor: encodeCursor(nextOffset, key) } : {}),
  };
}

function toFoundUser(explanation: UserExplanation): FoundUser {
  const engagement = explanation.scores.find((score) => score.model === 'engagement');
  const churn = explanation.scores.find((score) => score.model === 'churn_risk');
  return {
    userId: explanation.userId,
    behavioralSegment: explanation.behavioralSegment.segment,
    engagementScore: engagement?.score ?? null,
    engagementTier: engagement?.tier ?? null,
    churnRiskScore: churn?.score ?? null,
    churnRiskTier: churn?.tier ?? null,
    atRisk: explanation.atRisk.atRisk,
    atRiskSignals: explanation.atRisk.signals.filter((signal) => signal.fired).map((signal) => signal.id),
    rfmCode: explanation.rfm.code,
    daysSinceLastActive: explanation.activity.daysSinceLastActive,
    reasons: explanation.reasons,
  };
}
