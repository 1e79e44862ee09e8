import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { computeScores, explainUsers, updateSettings, type UserExplanation } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { dayRange, insertBilling, insertDailySessions, openTestWorkspace } from './helpers/workspace.js';

/*
 * As of 2024-01-20 (weekly cadence: dormant after 21 quiet days). Every user has one
 * session a day from 01-01 to 01-10 (10 quiet days at the as-of day, below the threshold,
 * so no user is dormant by inactivity), plus:
 * payer:    a payment on 01-05 and a cancel on 01-12 -> churned after paying;
 * downfree: a payment on 01-05 and a downgrade to "free" on 01-12 -> churned after paying;
 * downpaid: a payment on 01-05 and a downgrade to "starter" on 01-12 -> not dormant;
 * early:    a cancel on 01-03 before its payment on 01-05 -> not dormant.
 * Usage: payer has usage 85 of a usage_limit of 100 (0.85); downfree has usage 130 on the
 * "pro" plan whose limit settings.usageLimits sets to 200 (0.65).
 * Seats: payer 60, downfree 12, downpaid 3, early 1.
 */
let ws: Workspace;
let byId: Map<string, UserExplanation>;

async function insertUser(user: string, plan: string, seats: number, properties: Record<string, number> | null): Promise<void> {
  await ws.run('INSERT INTO users (user_id, signup_at, plan, seats, properties) VALUES ($1, $2::TIMESTAMP, $3, $4, $5::JSON)', [
    user,
    '2024-01-01 08:00:00',
    plan,
    seats,
    properties === null ? null : JSON.stringify(properties),
  ]);
}

beforeAll(async () => {
  ws = await openTestWorkspace();
  await ws.run(`CREATE TABLE users (user_id VARCHAR NOT NULL, signup_at TIMESTAMP, plan VARCHAR, role VARCHAR,
    account_id VARCHAR, company VARCHAR, company_size INTEGER, industry VARCHAR, country VARCHAR, seats INTEGER, properties JSON)`);
  await insertUser('payer', 'pro', 60, { usage: 85, usage_limit: 100 });
  await insertUser('downfree', 'pro', 12, { usage: 130 });
  await insertUser('downpaid', 'starter', 3, null);
  await insertUser('early', 'pro', 1, null);
  for (const user of ['payer', 'downfree', 'downpaid', 'early']) {
    await insertDailySessions(ws, user, dayRange('2024-01-01', '2024-01-10'), [{ at: '10:00', event: 'project_created' }]);
  }
  await insertBilling(ws, [
    { user: 'payer', ts: '2024-01-05 10:00:00', kind: 'payment', amount: 30 },
    { user: 'payer', ts: '2024-01-12 10:00:00', kind: 'cancel' },
    { user: 'downfree', ts: '2024-01-05 10:00:00', kind: 'payment', amount: 30 },
    { user: 'downfree', ts: '2024-01-12 10:00:00', kind: 'downgrade', plan: 'free' },
    { user: 'downpaid', ts: '2024-01-05 10:00:00', kind: 'payment', amount: 30 },
    { user: 'downpaid', ts: '2024-01-12 10:00:00', kind: 'downgrade', plan: 'starter' },
    { user: 'early', ts: '2024-01-03 10:00:00', kind: 'cancel' },
    { user: 'early', ts: '2024-01-05 10:00:00', kind: 'payment', amount: 30 },
  ]);
  await updateSettings(ws, { usageLimits: { pro: 200 }, rfm: { monetary: 'seats', seatEdges: [3, 10, 50] } });
  await computeScores(ws, { asOf: '2024-01-20' });
  byId = new Map((await explainUsers(ws, ['payer', 'downfree', 'downpaid', 'early'])).map((e) => [e.userId, e]));
});

afterAll(() => ws.close());

function user(id: string): UserExplanation {
  const found = byId.get(id);
  if (!found) throw new Error(`no explanation for ${id}`);
  return found;
}

describe('dormant sub-segments', () => {
  test.each([
    ['payer', 'churned_after_paying'],
    ['downfree', 'churned_after_paying'],
    ['downpaid', null],
    ['early', null],
  ])('%s', (id, segment) => {
    expect(user(id).dormancy.segment).toBe(segment);
  });
});

describe('usage limits', () => {
  test('usage_limit column in properties', () => {
    const component = user('payer').scores.find((s) => s.model === 'expansion')?.components.find((c) => c.id === 'usage_limit');
    expect(component).toMatchObject({ missing: false, raw: 0.85, points: 25 });
  });

  test('limit from plan settings', () => {
    const component = user('downfree').scores.find((s) => s.model === 'expansion')?.components.find((c) => c.id === 'usage_limit');
    expect(component).toMatchObject({ raw: 0.65, points: 15 });
  });

  test('no usage scores null points', () => {
    const component = user('early').scores.find((s) => s.model === 'expansion')?.components.find((c) => c.id === 'usage_limit');
    expect(component).toMatchObject({ raw: null, points: 0, band: 'no usage or limit known for this user' });
  });
});

describe('RFM monetary from seats', () => {
  // 60 seats -> 5, 12 -> 4, 3 -> 3, 1 seat and active in the last 30 days -> 2.
  test.each([
    ['payer', 5],
    ['downfree', 4],
    ['downpaid', 3],
    ['early', 2],
  ])('%s', (id, m) => {
    expect(user(id).rfm.m).toBe(m);
  });
});

describe('RFM monetary from usage', () => {
  // Events in the 28 days up to 2024-03-31: low1 1, low2 1, high 5, old none (its only
  // event is in January). old -> 1; ranks among the others 1, 1, 3 of 3:
  // 2 + floor(4 * 0 / 3) = 2 for both ties, 2 + floor(4 * 2 / 3) = 4 for high.
  test('ties share a score', async () => {
    const local = await openTestWorkspace();
    try {
      await insertDailySessions(local, 'low1', ['2024-03-30'], [{ at: '10:00', event: 'a' }]);
      await insertDailySessions(local, 'low2', ['2024-03-29'], [{ at: '10:00', event: 'a' }]);
      await insertDailySessions(local, 'high', dayRange('2024-03-27', '2024-03-31'), [{ at: '10:00', event: 'a' }]);
      await insertDailySessions(local, 'old', ['2024-01-15'], [{ at: '10:00', event: 'a' }]);
      await updateSettings(local, { rfm: { monetary: 'usage', seatEdges: [3, 10, 50] } });
      await computeScores(local, { asOf: '2024-03-31' });
      const rows = await local.query<{ user_id: string; rfm_m: number }>('SELECT user_id, rfm_m FROM user_scores ORDER BY user_id');
      expect(Object.fromEntries(rows.map((row) => [row.user_id, row.rfm_m]))).toEqual({ high: 4, low1: 2, low2: 2, old: 1 });
    } finally {
      local.close();
    }
  });
});
