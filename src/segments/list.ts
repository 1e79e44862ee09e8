import { createHash } from 'node:crypto';
import { decodeCursor, encodeCursor } from '../scoring/find.js';
import { UserInputError, type Workspace } from '../workspace/index.js';
import { allSegments } from './definitions.js';
import { SMALL_SEGMENT_USERS, ensureEvaluated, smallSegmentWarning, type EvaluationResult } from './evaluate.js';

export const LIST_DEFAULT_LIMIT = 50;
export const LIST_MAX_LIMIT = 200;

export interface PageRequest {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface ListedSegment {
  readonly name: string;
  readonly kind: 'builtin' | 'saved';
  readonly category: string;
  readonly description: string | null;
  readonly action: string | null;
  readonly refresh: string | null;
  /** Members at the last evaluation; null when it failed. */
  readonly size: number | null;
  readonly share: number | null;
  readonly error?: string;
  readonly warning?: string;
}

export interface SegmentList {
  /** As-of date of the evaluation the sizes come from. */
  readonly asOf: string;
  readonly evaluatedNow: boolean;
  readonly total: number;
  readonly segments: ListedSegment[];
  readonly nextCursor?: string;
}

function pageBounds(request: PageRequest, key: string): { limit: number; offset: number } {
  const limit = request.limit ?? LIST_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_MAX_LIMIT) {
    throw new UserInputError(`Invalid limit ${limit}: use a whole number from 1 to ${LIST_MAX_LIMIT}.`);
  }
  return { limit, offset: request.cursor ? decodeCursor(request.cursor, key) : 0 };
}

function pageKey(listName: string, filters: unknown = null): string {
  return createHash('sha256').update(JSON.stringify([listName, filters])).digest('hex').slice(0, 16);
}

/**
 * Lists built-in and saved segments with their size at the last evaluation, evaluating
 * all of them first when the scores changed since (or none was stored).
 */
export async function listSegments(ws: Workspace, request: PageRequest = {}): Promise<SegmentList> {
  const key = pageKey('segments');
  const { limit, offset } = pageBounds(request, key);
  const { asOf, evaluatedNow, errors, result } = await ensureEvaluated(ws);
  const evaluation = result ?? (await storedEvaluation(ws, asOf, errors));
  const byName = new Map(evaluation.segments.map((segment) => [segment.name, segment]));

  const segments = await allSegments(ws);
  const page = segments.slice(offset, offset + limit).map((segment): ListedSegment => {
    const evaluated = byName.get(segment.name);
    // A segment without a stored size was saved after the last evaluation and before any scores.
    const failed = evaluated?.error !== undefined;
    let size: number | null = 0;
    if (failed) size = null;
    else if (evaluated) size = evaluated.size;
    const warning = size !== null ? smallSegmentWarning(segment.name, size) : undefined;
    return {
      name: segment.name,
      kind: segment.kind,
      category: segment.category,
      description: segment.description,
      action: segment.action,
      refresh: segment.refresh,
      size,
      share: size !== null && evaluation.users > 0 ? size / evaluation.users : null,
      ...(failed ? { error: evaluated?.error } : {}),
      ...(warning ? { warning } : {}),
    };
  });
  const next = offset + page.length;
  return {
    asOf,
    evaluatedNow,
    total: segments.length,
    segments: page,
    ...(next < segments.length ? { nextCursor: encodeCursor(next, key) } : {}),
  };
}

/** Sizes from the stored memberships of one as-of date, and the errors recorded by that evaluation. */
async function storedEvaluation(ws: Workspace, asOf: string, errors: Record<string, string>): Promise<EvaluationResult> {
  const users = (await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM user_metrics'))?.n ?? 0;
  const rows = await ws.query<{ segment: string; n: number }>(
    'SELECT segment, size AS n FROM segment_sizes WHERE as_of = CAST($1 AS DATE)',
    [asOf],
  );
  const sizes = rows.map((row) => ({ name: row.segment, kind: 'saved' as const, size: row.n, share: users > 0 ? row.n / users : 0 }));
  const failed = Object.entries(errors).map(([name, error]) => ({ name, kind: 'saved' as const, size: 0, share: 0, error }));
  return { asOf, users, segments: [...sizes, ...failed] };
}

export interface SegmentOverlap {
  readonly first: string;
  readonly second: string;
  /** Users in both segments. */
  readonly users: number;
  readonly firstSize: number;
  readonly secondSize: number;
  /** users divided by the smaller segment's size, 0-1: 1 means the smaller one lies inside the other. */
  readonly shareOfSmaller: number;
  readonly warning?: string;
}

export interface OverlapReport {
  readonly asOf: string;
  readonly total: number;
  readonly overlaps: SegmentOverlap[];
  readonly nextCursor?: string;
}

/**
 * Pairs of rule segments that share members at the last evaluation, largest overlap
 * first, with `minShare` (0-1) dropping pairs whose overlap is a small part of both.
 */
export async function segmentOverlaps(ws: Workspace, request: PageRequest & { minShare?: number } = {}): Promise<OverlapReport> {
  const minShare = request.minShare ?? 0;
  if (!(minShare >= 0 && minShare <= 1)) throw new UserInputError(`Invalid minShare ${minShare}: use a fraction from 0 to 1.`);
  const key = pageKey('overlaps', minShare);
  const { limit, offset } = pageBounds(request, key);
  const { asOf } = await ensureEvaluated(ws);

  const pairs = `
    WITH members AS (SELECT segment, user_id FROM segment_members WHERE as_of = CAST($as_of AS DATE)),
    sizes AS (SELECT segment, count(*) AS size FROM members GROUP BY segment),
    pairs AS (
      SELECT a.segment AS first, b.segment AS second, count(*) AS users
      FROM members a JOIN members b ON a.user_id = b.user_id AND a.segment < b.segment
      GROUP BY a.segment, b.segment
    )
    SELECT p.first, p.second, p.users, fs.size AS first_size, ss.size AS second_size,
      p.users / least(fs.size, ss.size) AS share_of_smaller
    FROM pairs p JOIN sizes fs ON fs.segment = p.first JOIN sizes ss ON ss.segment = p.second
    WHERE p.users / least(fs.size, ss.size) >= $min_share`;
  const params = { as_of: asOf, min_share: minShare };
  const total = (await ws.queryOne<{ n: number }>(`SELECT count(*) AS n FROM (${pairs})`, params))?.n ?? 0;
  const rows = await ws.query<{ first: string; second: string; users: number; first_size: number; second_size: number; share_of_smaller: number }>(
    `${pairs} ORDER BY p.users DESC, p.first, p.second LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  const overlaps = rows.map((row): SegmentOverlap => {
    const warning = row.users < SMALL_SEGMENT_USERS ? `Only ${row.users} users are in both; treat the overlap share with care.` : undefined;
    return {
      first: row.first,
      second: row.second,
      users: row.users,
      firstSize: row.first_size,
      secondSize: row.second_size,
      shareOfSmaller: row.share_of_smaller,
      ...(warning ? { warning } : {}),
    };
  });
  const next = offset + overlaps.length;
  return { asOf, total, overlaps, ...(next < total ? { nextCursor: encodeCursor(next, key) } : {}) };
}
