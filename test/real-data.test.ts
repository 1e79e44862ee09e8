import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyze } from '../src/analyze.js';
import { Workspace, noProgress } from '../src/workspace/index.js';
import { DATASETS_MISSING, datasetPath } from './helpers/datasets.js';

const RELAX = datasetPath('relax');
const SPARKIFY = datasetPath('sparkify-logs');

// The public data sets live beside the project, not inside it (their licences do not allow copying).
const haveRelax = existsSync(path.join(RELAX, 'takehome_user_engagement.csv'));
const haveSparkify = existsSync(SPARKIFY);

describe.skipIf(!haveRelax)(`relax login log (dates only, users table)${DATASETS_MISSING}`, () => {
  let ws: Workspace;
  const out = mkdtempSync(path.join(tmpdir(), 'relax-'));
  const logins = path.join(RELAX, 'takehome_user_engagement.csv');
  const usersFile = path.join(RELAX, 'takehome_users.csv');

  beforeAll(async () => {
    ws = await Workspace.open({ path: ':memory:' });
    await analyze(
      ws,
      {
        files: { events: logins, users: usersFile },
        loadOptions: { users: { mapping: { user_id: 'object_id' } }, events: { eventName: 'login' } },
        outDir: out,
      },
      noProgress,
    );
  });
  afterAll(() => ws.close());

  test('every user of the users file is scored', async () => {
    const independent = await ws.queryOne<{ n: number }>(
      `SELECT count(DISTINCT object_id) AS n FROM read_csv('${usersFile}', header = true)`,
    );
    expect(independent?.n).toBe(12000);
    expect(await ws.rowCount('user_scores')).toBe(12000);
  });

  test('users without any login are inactive', async () => {
    // Inactive also takes users with fewer than 3 login days and none in the last 30 days.
    const independent = await ws.queryOne<{ n: number }>(
      `SELECT count(*) AS n FROM read_csv('${usersFile}', header = true) u
       WHERE u.object_id NOT IN (SELECT user_id FROM read_csv('${logins}', header = true))`,
    );
    expect(independent?.n).toBe(3177);
    const gone = await ws.queryOne<{ n: number }>(`
      WITH days AS (SELECT DISTINCT user_id, time_stamp::DATE AS d FROM read_csv('${logins}', header = true))
      SELECT count(*) AS n FROM (
        SELECT user_id, count(*) AS login_days, max(d) AS last FROM days GROUP BY user_id
      ) WHERE login_days < 3 AND (SELECT max(d) FROM days) - last >= 30`);
    const inactive = await ws.queryOne<{ n: number; never: number; engaged: number }>(
      `SELECT count(*) AS n, count(*) FILTER (WHERE m.last_active_date IS NULL) AS never,
              count(*) FILTER (WHERE s.engagement_tier <> 'disengaged') AS engaged
       FROM user_scores s JOIN user_metrics m USING (user_id) WHERE s.behavioral_segment = 'inactive'`,
    );
    expect(inactive?.never).toBe(3177);
    expect(inactive?.n).toBe(3177 + (gone?.n ?? 0));
    expect(gone?.n).toBeGreaterThan(0);
    expect(inactive?.engaged).toBe(0);
  });

  test('date-only data marks session depth as missing', async () => {
    const run = await ws.getMeta<{ inputs: Record<string, { available: boolean }>; models: Record<string, { missingComponents: string[] }> }>(
      'scoring',
    );
    expect(run?.inputs.time_of_day.available).toBe(false);
    expect(run?.models.engagement.missingComponents).toContain('depth');
    expect(run?.models.engagement.missingComponents).toContain('breadth');
  });

  test('at-risk count equals an independent SQL count', async () => {
    // Written from the definitions, straight from the raw CSV: one session per login day,
    // usage decline = last 7 days below half the weekly average of the 28 days before them,
    // login gap = days since the last login above twice the median gap (7 days with one login).
    // Feature breadth and support cannot fire on this data, so at risk = both signals.
    const independent = await ws.queryOne<{ n: number }>(`
      WITH days AS (SELECT DISTINCT user_id::VARCHAR AS user_id, time_stamp::DATE AS d FROM read_csv('${logins}', header = true)),
      bounds AS (SELECT max(d) + 1 AS boundary FROM days),
      gaps AS (SELECT user_id, d, d - lag(d) OVER (PARTITION BY user_id ORDER BY d) AS gap FROM days),
      per_user AS (
        SELECT user_id,
          count(*) FILTER (WHERE d >= boundary - 7) AS last7,
          count(*) FILTER (WHERE d >= boundary - 35 AND d < boundary - 7) / 4.0 AS baseline,
          (boundary - 1) - max(d) AS idle,
          coalesce(median(gap), 7) AS typical
        FROM gaps, bounds GROUP BY user_id, boundary
      )
      SELECT count(*) AS n FROM per_user
      WHERE baseline > 0 AND last7 < 0.5 * baseline AND idle > 2 * typical AND idle < 30`);
    const product = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM user_scores WHERE at_risk');
    expect(product?.n).toBe(independent?.n);
    expect(product?.n).toBeGreaterThan(0);
  });

  test('as-of day is the last login day', async () => {
    const run = await ws.getMeta<{ asOf: string }>('scoring');
    expect(run?.asOf).toBe('2014-06-06');
  });
});

describe.skipIf(!haveSparkify)(`sparkify NDJSON log (epoch ms, empty user ids)${DATASETS_MISSING}`, () => {
  let ws: Workspace;
  const out = mkdtempSync(path.join(tmpdir(), 'sparkify-'));
  const files = path.join(SPARKIFY, '*.json');
  let rejected = 0;

  beforeAll(async () => {
    ws = await Workspace.open({ path: ':memory:' });
    const result = await analyze(ws, { files: { events: files }, outDir: out }, noProgress);
    rejected = result.loads[0].rowsRejected;
  });
  afterAll(() => ws.close());

  test('logged-out rows are rejected and every user is scored', async () => {
    const independent = await ws.queryOne<{ users: number; empty: number }>(
      `SELECT count(DISTINCT userId) FILTER (WHERE userId <> '') AS users, count(*) FILTER (WHERE userId = '') AS empty
       FROM read_json('${files}', format = 'newline_delimited', columns = {userId: 'VARCHAR'})`,
    );
    expect(independent?.users).toBe(97);
    expect(rejected).toBe(independent?.empty);
    expect(await ws.rowCount('user_scores')).toBe(97);
  });

  test('plan comes from the level column', async () => {
    const rows = await ws.query<{ plan: string }>('SELECT DISTINCT plan FROM user_scores ORDER BY plan');
    expect(rows.map((r) => r.plan)).toEqual(['free', 'paid']);
  });

  test('at-risk count equals an independent SQL count', async () => {
    // Independent formulation from the raw NDJSON: sessions are (user, sessionId) pairs dated by
    // their first event in UTC; features are the page names; the boundary is the day after the last event.
    const independent = await ws.queryOne<{ n: number }>(`
      WITH raw AS (
        SELECT userId AS user_id, page, sessionId::VARCHAR AS session_id, make_timestamp(ts * 1000) AS t
        FROM read_json('${files}', format = 'newline_delimited', columns = {userId: 'VARCHAR', page: 'VARCHAR', sessionId: 'BIGINT', ts: 'BIGINT'})
        WHERE userId <> ''
      ),
      bounds AS (SELECT max(t)::DATE + 1 AS boundary FROM raw),
      sessions AS (SELECT user_id, session_id, min(t)::DATE AS d FROM raw GROUP BY ALL),
      days AS (SELECT DISTINCT user_id, t::DATE AS d FROM raw),
      gaps AS (SELECT user_id, d - lag(d) OVER (PARTITION BY user_id ORDER BY d) AS gap, d FROM days),
      activity AS (
        SELECT user_id, (SELECT boundary FROM bounds) - 1 - max(d) AS idle, coalesce(median(gap), 7) AS typical
        FROM gaps GROUP BY user_id
      ),
      usage AS (
        SELECT user_id,
          count(*) FILTER (WHERE d >= boundary - 7) AS last7,
          count(*) FILTER (WHERE d >= boundary - 35 AND d < boundary - 7) / 4.0 AS baseline
        FROM sessions, bounds GROUP BY user_id
      ),
      weekly AS (
        SELECT user_id, ((boundary - 1) - t::DATE) // 7 AS week, count(DISTINCT page) AS n
        FROM raw, bounds WHERE t::DATE >= boundary - 56 GROUP BY ALL
      ),
      breadth AS (
        SELECT user_id, max(n) AS peak, max(n) FILTER (WHERE week = 0) AS this_week FROM weekly GROUP BY user_id
      ),
      signals AS (
        SELECT a.user_id,
          (u.baseline > 0 AND u.last7 < 0.5 * u.baseline)::INTEGER
          + (b.peak > 0 AND coalesce(b.this_week, 0) < 0.5 * b.peak)::INTEGER
          + (a.idle > 2 * a.typical)::INTEGER AS fired
        FROM activity a JOIN usage u USING (user_id) JOIN breadth b USING (user_id)
      )
      SELECT count(*) AS n FROM signals JOIN activity USING (user_id) WHERE fired >= 2 AND idle < 30`);
    const product = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM user_scores WHERE at_risk');
    expect(product?.n).toBe(independent?.n);
    expect(product?.n).toBeGreaterThan(0);
  });
});
