import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FEATURES, FIXTURE_FILES, generate, PERSONAS, writeFixture } from '../fixtures/generator/index.js';
import { UserInputError } from '../src/workspace/errors.js';

const FIXTURE_OPTIONS = { seed: 42, users: 2000, asOf: '2026-10-31', days: 180 };
const COMMITTED_FIXTURE = path.resolve('fixtures/saas');

const temporaryDirectories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'fixtures-generator-'));
  temporaryDirectories.push(directory);
  return directory;
}

async function fileHashes(directory: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of FIXTURE_FILES) {
    hashes[file] = createHash('sha256').update(await readFile(path.join(directory, file))).digest('hex');
  }
  return hashes;
}

afterAll(async () => {
  for (const directory of temporaryDirectories) await rm(directory, { recursive: true, force: true });
});

describe('determinism', () => {
  test('same seed gives identical bytes', async () => {
    const options = { seed: 7, users: 300, asOf: '2026-03-15', days: 150 };
    const first = await temporaryDirectory();
    const second = await temporaryDirectory();
    await writeFixture(first, options);
    await writeFixture(second, options);
    expect(await fileHashes(second)).toEqual(await fileHashes(first));
  });

  test('different seed changes every file', async () => {
    const first = await temporaryDirectory();
    const second = await temporaryDirectory();
    await writeFixture(first, { seed: 7, users: 300, asOf: '2026-03-15', days: 150 });
    await writeFixture(second, { seed: 8, users: 300, asOf: '2026-03-15', days: 150 });
    const [a, b] = [await fileHashes(first), await fileHashes(second)];
    for (const file of FIXTURE_FILES) expect(b[file], file).not.toBe(a[file]);
  });

  test('committed fixture matches the generator', async () => {
    const fresh = await temporaryDirectory();
    await writeFixture(fresh, FIXTURE_OPTIONS);
    expect(await fileHashes(COMMITTED_FIXTURE)).toEqual(await fileHashes(fresh));
  });

  test('2000 users generate in a few seconds', () => {
    const started = performance.now();
    generate(FIXTURE_OPTIONS);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('option validation', () => {
  test.each([
    [{ seed: -1 }, 'Invalid seed -1'],
    [{ seed: 1.5 }, 'Invalid seed 1.5'],
    [{ users: 0 }, 'Invalid user count 0'],
    [{ users: 10_000_000 }, 'Invalid user count 10000000'],
    [{ asOf: '2026-02-30' }, 'Invalid as-of date "2026-02-30"'],
    [{ asOf: '31/10/2026' }, 'Invalid as-of date "31/10/2026"'],
    [{ days: 30 }, 'Invalid history length 30 days'],
  ])('rejects %o', (override, message) => {
    const options = { ...FIXTURE_OPTIONS, ...override };
    expect(() => generate(options)).toThrow(UserInputError);
    expect(() => generate(options)).toThrow(message);
  });
});

describe('committed fixture', () => {
  test('stays under the 4 MB budget', async () => {
    let total = 0;
    for (const file of FIXTURE_FILES) total += (await readFile(path.join(COMMITTED_FIXTURE, file))).length;
    expect(total).toBeLessThan(4 * 1024 * 1024);
  });

  test('files have the documented headers', async () => {
    const expected: Record<string, string> = {
      'users.csv': 'user_id,signup_at,plan,role,company,company_size,industry,country,account_id,seats',
      'events.csv.gz': 'user_id,event,timestamp,session_id',
      'billing.csv': 'user_id,account_id,timestamp,kind,amount,plan',
      'support.csv': 'user_id,timestamp,ticket_id,sentiment',
      'nps.csv': 'user_id,timestamp,score',
      'personas.csv': 'user_id,persona,expected_behavioral_segment',
    };
    for (const file of FIXTURE_FILES) {
      const bytes = await readFile(path.join(COMMITTED_FIXTURE, file));
      const text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
      expect(text.slice(0, text.indexOf('\n')), file).toBe(expected[file]);
    }
  });
});

/**
 * Checks of the planted truth in plain DuckDB SQL over the generated files, independent
 * of the product's code. T is the midnight after the day of the latest event.
 */
describe('planted truth in DuckDB', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  async function rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  /** User ids of `personas` that fail `condition` (a boolean SQL expression over user_facts). */
  async function violations(personas: string[], condition: string): Promise<string[]> {
    const list = personas.map((persona) => `'${persona}'`).join(', ');
    const result = await rows(`SELECT user_id FROM user_facts WHERE persona IN (${list}) AND NOT coalesce(${condition}, false) ORDER BY user_id`);
    return result.map((row) => String(row.user_id));
  }

  async function count(sql: string): Promise<number> {
    const [row] = await rows(`SELECT CAST(count(*) AS INTEGER) AS n FROM (${sql})`);
    return Number(row.n);
  }

  beforeAll(async () => {
    const directory = await temporaryDirectory();
    await writeFixture(directory, FIXTURE_OPTIONS);
    const file = (name: string) => `'${path.join(directory, name)}'`;
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    const asTimestamp = (column: string) => `CAST(replace(${column}, 'Z', '') AS TIMESTAMP)`;
    await connection.run(`
      CREATE TABLE users AS SELECT * REPLACE (${asTimestamp('signup_at')} AS signup_at) FROM read_csv(${file('users.csv')}, all_varchar = true);
      CREATE TABLE events AS SELECT user_id, event, ${asTimestamp('timestamp')} AS ts, session_id FROM read_csv(${file('events.csv.gz')}, all_varchar = true);
      CREATE TABLE billing AS SELECT user_id, kind, plan, ${asTimestamp('timestamp')} AS ts FROM read_csv(${file('billing.csv')}, all_varchar = true);
      CREATE TABLE support AS SELECT user_id, sentiment, ${asTimestamp('timestamp')} AS ts FROM read_csv(${file('support.csv')}, all_varchar = true);
      CREATE TABLE nps AS SELECT user_id, CAST(score AS INTEGER) AS score, ${asTimestamp('timestamp')} AS ts FROM read_csv(${file('nps.csv')}, all_varchar = true);
      CREATE TABLE personas AS SELECT * FROM read_csv(${file('personas.csv')}, all_varchar = true);
      CREATE TABLE boundary AS SELECT CAST(CAST(max(ts) AS DATE) + INTERVAL 1 DAY AS TIMESTAMP) AS t FROM events;
      CREATE TABLE sessions AS
        SELECT user_id, session_id, min(ts) AS start_ts, max(ts) AS end_ts,
               date_diff('day', CAST(min(ts) AS DATE), CAST((SELECT t FROM boundary) AS DATE)) AS day_offset
        FROM events GROUP BY ALL;
      CREATE TABLE user_facts AS
        WITH b AS (SELECT t FROM boundary),
        weekly AS (
          SELECT user_id,
            count(*) FILTER (WHERE day_offset BETWEEN 1 AND 7) AS w0,
            count(*) FILTER (WHERE day_offset BETWEEN 8 AND 14) AS w1,
            count(*) FILTER (WHERE day_offset BETWEEN 15 AND 21) AS w2,
            count(*) FILTER (WHERE day_offset BETWEEN 22 AND 28) AS w3,
            count(*) AS all_sessions
          FROM sessions GROUP BY user_id),
        usage AS (
          SELECT user_id,
            count(DISTINCT event) FILTER (WHERE event IN (${FEATURES.map((f) => `'${f}'`).join(', ')}) AND ts >= (SELECT t FROM b) - INTERVAL 30 DAY) AS features_30d,
            count(DISTINCT event) FILTER (WHERE ts >= (SELECT t FROM b) - INTERVAL 30 DAY) AS events_30d,
            count(*) FILTER (WHERE event = 'invite_sent') AS invites,
            count(*) FILTER (WHERE event = 'pricing_page_view' AND ts >= (SELECT t FROM b) - INTERVAL 14 DAY) AS pricing_14d,
            count(*) FILTER (WHERE event = 'locked_feature_click' AND ts >= (SELECT t FROM b) - INTERVAL 14 DAY) AS locked_14d,
            max(ts) AS last_ts
          FROM events GROUP BY user_id)
        SELECT p.user_id, p.persona, p.expected_behavioral_segment AS expected, u.plan, u.signup_at,
          date_diff('day', CAST(u.signup_at AS DATE), CAST((SELECT t FROM b) AS DATE)) AS signup_offset,
          date_diff('day', CAST(usage.last_ts AS DATE), CAST((SELECT t FROM b) AS DATE)) AS last_offset,
          coalesce(w0, 0) AS w0, coalesce(w1, 0) AS w1, coalesce(w2, 0) AS w2, coalesce(w3, 0) AS w3,
          (coalesce(w0, 0) + coalesce(w1, 0) + coalesce(w2, 0) + coalesce(w3, 0)) / 4.0 AS avg_weekly_28d,
          coalesce(all_sessions, 0) AS all_sessions,
          coalesce(features_30d, 0) / ${FEATURES.length}.0 AS breadth_30d,
          coalesce(events_30d, 0) AS events_30d,
          coalesce(invites, 0) AS invites, coalesce(pricing_14d, 0) AS pricing_14d, coalesce(locked_14d, 0) AS locked_14d,
          (SELECT max(score) FROM nps WHERE nps.user_id = p.user_id) AS best_nps
        FROM personas p JOIN users u USING (user_id)
        LEFT JOIN weekly USING (user_id) LEFT JOIN usage USING (user_id);
    `);
  });

  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });

  test('boundary is the midnight after the as-of day', async () => {
    const [row] = await rows(`SELECT strftime(t, '%Y-%m-%d %H:%M:%S') AS t FROM boundary`);
    expect(row.t).toBe('2026-11-01 00:00:00');
  });

  test('every persona is present', async () => {
    const result = await rows(`SELECT persona, CAST(count(*) AS INTEGER) AS n FROM personas GROUP BY persona`);
    const counts = Object.fromEntries(result.map((row) => [row.persona, row.n]));
    for (const persona of PERSONAS) expect(counts[persona], persona).toBeGreaterThan(0);
    for (const persona of ['power', 'regular', 'casual', 'at_risk', 'dormant', 'never_active', 'new']) {
      expect(counts[persona], persona).toBeGreaterThanOrEqual(30);
    }
  });

  test('row values stay in their domains', async () => {
    expect(await count(`SELECT * FROM users WHERE plan NOT IN ('free', 'trial', 'starter', 'pro', 'enterprise')`)).toBe(0);
    expect(await count(`SELECT * FROM users WHERE role NOT IN ('designer', 'developer', 'manager', 'analyst', 'admin', 'unknown')`)).toBe(0);
    expect(await count(`SELECT user_id FROM users GROUP BY user_id HAVING count(*) > 1`)).toBe(0);
    expect(await count(`SELECT * FROM billing WHERE kind NOT IN ('payment', 'payment_failed', 'upgrade', 'downgrade', 'cancel')`)).toBe(0);
    expect(await count(`SELECT * FROM support WHERE sentiment NOT IN ('negative', 'neutral', 'positive')`)).toBe(0);
    expect(await count(`SELECT * FROM nps WHERE score NOT BETWEEN 0 AND 10`)).toBe(0);
    expect(await count(`SELECT * FROM events WHERE user_id NOT IN (SELECT user_id FROM users)`)).toBe(0);
    expect(await count(`SELECT DISTINCT event FROM events`)).toBe(22);
  });

  test('no record is at or after the boundary', async () => {
    for (const table of ['events', 'billing', 'support', 'nps']) {
      expect(await count(`SELECT * FROM ${table} WHERE ts >= (SELECT t FROM boundary)`), table).toBe(0);
    }
    expect(await count(`SELECT * FROM users WHERE signup_at >= (SELECT t FROM boundary)`)).toBe(0);
  });

  test('no event precedes its signup', async () => {
    expect(await count(`SELECT * FROM events JOIN users USING (user_id) WHERE ts < signup_at`)).toBe(0);
  });

  test('sessions agree with a 30-minute gap rule', async () => {
    const gaps = await rows(`
      WITH ordered AS (
        SELECT session_id, ts, lag(ts) OVER (PARTITION BY user_id ORDER BY ts) AS previous_ts,
               lag(session_id) OVER (PARTITION BY user_id ORDER BY ts) AS previous_session
        FROM events)
      SELECT
        CAST(count(*) FILTER (WHERE session_id = previous_session AND ts - previous_ts >= INTERVAL 30 MINUTE) AS INTEGER) AS long_inside,
        CAST(count(*) FILTER (WHERE session_id <> previous_session AND ts - previous_ts < INTERVAL 30 MINUTE) AS INTEGER) AS short_between
      FROM ordered`);
    expect(gaps[0].long_inside).toBe(0);
    expect(gaps[0].short_between).toBe(0);
    expect(await count(`SELECT * FROM sessions WHERE CAST(start_ts AS DATE) <> CAST(end_ts AS DATE)`)).toBe(0);
  });

  test('power users meet the power criteria', async () => {
    const personas = ['power', 'champion', 'expansion_ready'];
    expect(await violations(personas, 'least(w0, w1, w2, w3) >= 5')).toEqual([]);
    expect(await violations(personas, 'breadth_30d >= 0.7')).toEqual([]);
    expect(await violations(personas, 'signup_offset >= 30')).toEqual([]);
    expect(await violations(personas, 'last_offset = 1')).toEqual([]);
    expect(await violations(personas, 'w0 >= 0.5 * avg_weekly_28d')).toEqual([]);
  });

  test('regular users meet the regular criteria', async () => {
    const personas = ['regular', 'failed_payment', 'negative_support'];
    expect(await violations(personas, 'least(w0, w1, w2, w3) >= 2 AND greatest(w0, w1, w2, w3) <= 4')).toEqual([]);
    expect(await violations(personas, 'breadth_30d BETWEEN 0.3 AND 0.69')).toEqual([]);
    expect(await violations(personas, 'events_30d / 22.0 BETWEEN 0.3 AND 0.69')).toEqual([]);
    expect(await violations(personas, 'signup_offset >= 14')).toEqual([]);
    expect(await violations(personas, 'last_offset <= 3')).toEqual([]);
    expect(await violations(personas, 'w0 >= 0.5 * avg_weekly_28d')).toEqual([]);
  });

  test('casual users meet the casual criteria', async () => {
    expect(await violations(['casual'], 'w0 = 1 AND w1 = 1 AND w2 = 1 AND w3 = 1')).toEqual([]);
    expect(await violations(['casual'], 'breadth_30d < 0.3')).toEqual([]);
    expect(await violations(['casual'], 'events_30d / 22.0 < 0.3')).toEqual([]);
    expect(await violations(['casual'], 'signup_offset >= 7')).toEqual([]);
    expect(await violations(['casual'], 'last_offset <= 5')).toEqual([]);
  });

  test('at-risk users dropped from a high baseline', async () => {
    expect(await violations(['at_risk'], 'w0 < 0.5 * avg_weekly_28d AND avg_weekly_28d >= 2')).toEqual([]);
    expect(await violations(['at_risk'], 'w0 <= 1 AND last_offset <= 12')).toEqual([]);
    expect(await violations(['at_risk'], 'breadth_30d >= 0.3')).toEqual([]);
  });

  test('dormant users went quiet after three sessions', async () => {
    const personas = ['dormant', 'churned_after_paying'];
    expect(await violations(personas, 'last_offset > 30')).toEqual([]);
    expect(await violations(personas, 'all_sessions >= 3')).toEqual([]);
  });

  test('never-active users have no events', async () => {
    expect(await violations(['never_active'], 'all_sessions = 0 AND last_offset IS NULL')).toEqual([]);
    expect(await violations(['never_active'], 'signup_offset > 3')).toEqual([]);
  });

  test('new users signed up in the last three days', async () => {
    expect(await violations(['new'], 'signup_offset BETWEEN 1 AND 3 AND all_sessions >= 1')).toEqual([]);
    expect(await count(`SELECT * FROM user_facts WHERE persona <> 'new' AND signup_offset <= 3`)).toBe(0);
  });

  test('champions invite and promote', async () => {
    expect(await violations(['champion'], 'invites >= 2 AND best_nps >= 9')).toEqual([]);
    const lookalikes = await count(`SELECT * FROM user_facts WHERE persona IN ('power', 'expansion_ready') AND invites >= 2 AND best_nps >= 9`);
    expect(lookalikes).toBe(0);
  });

  test('expansion-ready users show buying intent', async () => {
    expect(await violations(['expansion_ready'], 'pricing_14d >= 1 AND locked_14d >= 1')).toEqual([]);
    expect(await count(`SELECT * FROM user_facts WHERE persona <> 'expansion_ready' AND locked_14d > 0`)).toBe(0);
    expect(await count(`SELECT * FROM user_facts WHERE persona NOT IN ('expansion_ready', 'new') AND pricing_14d > 0`)).toBe(0);
  });

  test('churned payers paid, cancelled and left', async () => {
    expect(await violations(['churned_after_paying'], `plan IN ('starter', 'pro', 'enterprise') AND last_offset > 60`)).toEqual([]);
    const paidAndCancelled = await count(`
      SELECT user_id FROM billing JOIN personas USING (user_id) WHERE persona = 'churned_after_paying'
      GROUP BY user_id HAVING count(*) FILTER (WHERE kind = 'payment') >= 1 AND count(*) FILTER (WHERE kind = 'cancel') = 1`);
    expect(paidAndCancelled).toBe(await count(`SELECT * FROM personas WHERE persona = 'churned_after_paying'`));
    expect(await count(`SELECT * FROM billing JOIN personas USING (user_id) WHERE kind = 'cancel' AND persona <> 'churned_after_paying'`)).toBe(0);
  });

  test('failed payments belong to their persona', async () => {
    const recentFailures = await count(`
      SELECT DISTINCT user_id FROM billing JOIN personas USING (user_id)
      WHERE persona = 'failed_payment' AND kind = 'payment_failed' AND ts >= (SELECT t FROM boundary) - INTERVAL 30 DAY`);
    expect(recentFailures).toBe(await count(`SELECT * FROM personas WHERE persona = 'failed_payment'`));
    expect(await count(`SELECT * FROM billing JOIN personas USING (user_id) WHERE kind = 'payment_failed' AND persona <> 'failed_payment'`)).toBe(0);
  });

  test('negative tickets belong to their persona', async () => {
    const escalated = await count(`
      SELECT user_id FROM support JOIN personas USING (user_id)
      WHERE persona = 'negative_support' AND sentiment = 'negative' AND ts >= (SELECT t FROM boundary) - INTERVAL 7 DAY
      GROUP BY user_id HAVING count(*) >= 2`);
    expect(escalated).toBe(await count(`SELECT * FROM personas WHERE persona = 'negative_support'`));
    expect(await count(`SELECT * FROM support JOIN personas USING (user_id) WHERE sentiment = 'negative' AND persona <> 'negative_support'`)).toBe(0);
  });
});
