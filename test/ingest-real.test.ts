import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTables, loadData } from '../src/ingest/index.js';
import { UserInputError, Workspace } from '../src/workspace/index.js';

const DATASETS = '/work/shared/datasets';
const available = existsSync(DATASETS);
// The public datasets live outside the repository; without them these tests cannot run.
const describeIfData = available ? describe : describe.skip;

describeIfData('ingest on real public datasets', () => {
  let ws: Workspace;

  beforeEach(async () => {
    ws = await Workspace.open({ path: ':memory:' });
  });
  afterEach(() => ws.close());

  /** Counts computed straight from the file with DuckDB, independent of the loader. */
  async function count(sql: string): Promise<number> {
    const row = await ws.queryOne<{ n: number }>(sql);
    return Number(row?.n);
  }

  it('relax engagement log as login events', async () => {
    const file = `${DATASETS}/relax/takehome_user_engagement.csv`;
    const expectedRows = await count(`SELECT count(*) AS n FROM read_csv('${file}', all_varchar = true)`);
    const expectedUsers = await count(`SELECT count(DISTINCT user_id) AS n FROM read_csv('${file}', all_varchar = true)`);

    const report = await loadData(ws, { table: 'events', path: file, eventName: 'login' });

    expect(expectedRows).toBe(207_917);
    expect(expectedUsers).toBe(8_823);
    expect(report.rowsRead).toBe(expectedRows);
    expect(report.rowsRejected).toBe(0);
    expect(report.rowsLoaded + report.duplicatesDropped).toBe(expectedRows);
    expect(await count('SELECT count(DISTINCT user_id) AS n FROM events')).toBe(expectedUsers);
    expect(report.hasTimeOfDay).toBe(false);
    expect(report.timestampFormat).toBe('date only');
    expect(report.mapping.event).toEqual({ source: null, how: 'constant' });
    expect(report.mapping.ts).toEqual({ source: 'time_stamp', how: 'detected' });
    expect(report.unmappedColumns).toEqual(['visited']);
  });

  it('relax engagement log without eventName uses a constant', async () => {
    const report = await loadData(ws, { table: 'events', path: `${DATASETS}/relax/takehome_user_engagement.csv` });
    expect(report.mapping.event.how).toBe('constant');
    expect(await count("SELECT count(*) AS n FROM events WHERE event <> 'activity'")).toBe(0);
    expect(report.warnings.join(' ')).toMatch(/no event column/);
  });

  it('relax users by detection', async () => {
    const file = `${DATASETS}/relax/takehome_users.csv`;
    const expected = await count(`SELECT count(DISTINCT object_id) AS n FROM read_csv('${file}', all_varchar = true)`);

    const report = await loadData(ws, { table: 'users', path: file });

    expect(expected).toBe(12_000);
    expect(report.rowsLoaded).toBe(expected);
    expect(report.mapping.user_id).toEqual({ source: 'object_id', how: 'detected' });
    expect(report.mapping.signup_at).toEqual({ source: 'creation_time', how: 'detected' });
    expect(report.mapping.account_id).toEqual({ source: 'org_id', how: 'detected' });
    expect(await count('SELECT count(*) AS n FROM users WHERE signup_at IS NULL')).toBe(0);
    expect(report.hasTimeOfDay).toBe(true);
  });

  it('relax users with an explicit mapping', async () => {
    const report = await loadData(ws, {
      table: 'users',
      path: `${DATASETS}/relax/takehome_users.csv`,
      mapping: { user_id: 'object_id' },
    });
    expect(report.mapping.user_id).toEqual({ source: 'object_id', how: 'explicit' });
    expect(report.rowsLoaded).toBe(12_000);
  });

  it('sparkify logs with a glob', async () => {
    const glob = `${DATASETS}/sparkify-logs/*.json`;
    const reader = `read_json('${glob}', format = 'newline_delimited')`;
    const expectedRead = await count(`SELECT count(*) AS n FROM ${reader}`);
    const expectedEmpty = await count(`SELECT count(*) AS n FROM ${reader} WHERE coalesce(userId, '') = ''`);
    const expectedUsers = await count(`SELECT count(DISTINCT userId) AS n FROM ${reader} WHERE userId <> ''`);
    // Rows that repeat user and timestamp differ in page or session, so none is an exact duplicate.
    const sameUserAndTime = await count(
      `SELECT count(*) - count(DISTINCT (userId, ts)) AS n FROM ${reader} WHERE userId <> ''`,
    );
    const exact = await count(
      `SELECT count(*) - count(DISTINCT (userId, page, ts, sessionId)) AS n FROM ${reader} WHERE userId <> ''`,
    );

    const report = await loadData(ws, { table: 'events', path: glob });

    expect(expectedRead).toBe(8_056);
    expect(expectedEmpty).toBe(286);
    expect(expectedUsers).toBe(97);
    expect(sameUserAndTime).toBe(18);
    expect(report.files).toHaveLength(30);
    expect(report.rowsRead).toBe(expectedRead);
    expect(report.rejections).toEqual([
      { reason: 'empty user id', count: expectedEmpty, sampleRows: expect.any(Array) },
    ]);
    expect(report.duplicatesDropped).toBe(exact);
    expect(report.rowsLoaded).toBe(expectedRead - expectedEmpty - exact);
    expect(report.timestampFormat).toBe('epoch milliseconds');
    expect(report.hasTimeOfDay).toBe(true);
    expect(report.mapping.event).toEqual({ source: 'page', how: 'detected' });
    expect(report.mapping.session_id).toEqual({ source: 'sessionId', how: 'detected' });
    expect(report.mapping.plan).toEqual({ source: 'level', how: 'detected' });
    expect(report.mapping.signup_at).toEqual({ source: 'registration', how: 'detected' });
    expect(report.dateRange?.min.startsWith('2018-11-')).toBe(true);

    expect(report.derivedUsers).toBe(expectedUsers);
    expect(await count('SELECT count(DISTINCT user_id) AS n FROM events')).toBe(expectedUsers);
    expect(await count("SELECT count(*) AS n FROM users WHERE plan IN ('free', 'paid')")).toBe(expectedUsers);
    expect(await count('SELECT count(*) AS n FROM users WHERE signup_at IS NULL')).toBe(0);
  });

  it('sparkify derived plan is the latest level', async () => {
    const glob = `${DATASETS}/sparkify-logs/*.json`;
    await loadData(ws, { table: 'events', path: glob });
    const mismatches = await count(
      `WITH latest AS (
         SELECT userId AS user_id, arg_max(level, ts) AS plan
         FROM read_json('${glob}', format = 'newline_delimited') WHERE userId <> '' GROUP BY userId)
       SELECT count(*) AS n FROM latest JOIN users USING (user_id) WHERE latest.plan <> users.plan`,
    );
    expect(mismatches).toBe(0);
  });

  it('describeTables after real loads', async () => {
    await loadData(ws, { table: 'users', path: `${DATASETS}/relax/takehome_users.csv` });
    await loadData(ws, { table: 'events', path: `${DATASETS}/relax/takehome_user_engagement.csv`, eventName: 'login' });
    const tables = await describeTables(ws);
    const events = tables.find((t) => t.table === 'events');
    expect(events?.rows).toBe(207_917);
    expect(events?.distinctUsers).toBe(8_823);
    expect(events?.loadReport?.hasTimeOfDay).toBe(false);
    expect(tables.find((t) => t.table === 'billing')?.loaded).toBe(false);
  });

  it('mixpanel warehouse table keeps reused insert ids with other times', async () => {
    const file = `${DATASETS}/vendor-exports/mixpanel/event.csv`;
    const reader = `read_csv('${file}', all_varchar = true)`;
    const expectedRead = await count(`SELECT count(*) AS n FROM ${reader}`);
    const reusedInsertIds = await count(`SELECT count(*) - count(DISTINCT insert_id) AS n FROM ${reader}`);
    // Mixpanel's duplicate key is event, time, distinct_id and insert id together.
    const repeated = await count(
      `SELECT count(*) - count(DISTINCT (distinct_id, name, time, insert_id)) AS n FROM ${reader}`,
    );

    const report = await loadData(ws, { table: 'events', path: file });

    expect(report.sourceShape).toBe('Mixpanel event table');
    expect(report.mapping.event).toEqual({ source: 'name', how: 'detected' });
    expect(report.rowsRead).toBe(expectedRead);
    expect(reusedInsertIds).toBe(2);
    expect(repeated).toBe(0);
    expect(report.duplicatesDropped).toBe(repeated);
    expect(report.rowsLoaded).toBe(expectedRead - repeated);
  });

  it('mixpanel server events without distinct_id are refused', async () => {
    const file = `${DATASETS}/vendor-exports/mixpanel/export_test.go.extracted.ndjson`;
    const error = await loadData(ws, { table: 'events', path: file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toMatch(/events\.user_id/);
    expect((error as Error).message).toMatch(/\$insert_id/);
    expect(await ws.tableExists('events')).toBe(false);
  });
});
