import { afterAll, beforeAll, expect, test } from 'vitest';
import { backtestScore, computeScores } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { dayRange, insertDailySessions, openTestWorkspace } from './helpers/workspace.js';

/*
 * As of 2024-01-31, observed until 2024-02-29.
 * stay: a session every day of January and February: healthy, does not churn.
 * gone: every day until 01-24, then one session on 01-29, then nothing: sessions fell
 *   from a baseline of 7 a week, so its churn risk is high, and it churns.
 * twin1, twin2: identical every-other-day histories until the as-of day, so equal
 *   scores; twin1 goes on in February, twin2 stops.
 */
let ws: Workspace;
const step = [{ at: '10:00', event: 'feature_a' }];

beforeAll(async () => {
  ws = await openTestWorkspace();
  await insertDailySessions(ws, 'stay', dayRange('2024-01-01', '2024-02-29'), step);
  await insertDailySessions(ws, 'gone', [...dayRange('2024-01-01', '2024-01-24'), '2024-01-29'], step);
  const everyOther = dayRange('2024-01-01', '2024-01-31').filter((_, i) => i % 2 === 0);
  await insertDailySessions(ws, 'twin1', [...everyOther, '2024-02-10'], step);
  await insertDailySessions(ws, 'twin2', everyOther, step);
  await computeScores(ws, { asOf: '2024-02-29' });
});
afterAll(() => ws.close());

test('churn risk ranks churners first', async () => {
  const result = await backtestScore(ws, { asOf: '2024-01-31', observeUntil: '2024-02-29' });
  expect(result).toMatchObject({ users: 4, churned: 2, churnRate: 0.5 });
  // Churn risk as of 01-31: gone 100 (decline 30 + gap 25 + trend 10, all of 65 scaled);
  // stay, twin1 and twin2 all 0. Pairs (churned, stayed): gone beats stay and twin1 (1 each);
  // twin2 ties stay and twin1 (0.5 each): (1 + 1 + 0.5 + 0.5) / 4 = 0.75.
  expect(result.auc).toBe(0.75);
  expect(result.tiers.find((tier) => tier.tier === 'high')).toEqual({ tier: 'high', users: 1, churned: 1, churnRate: 1 });
  // The high tier churns at 100% against 50% overall.
  expect(result.lift).toBe(2);
  expect(result.tiers.reduce((sum, tier) => sum + tier.users, 0)).toBe(4);
});

test('engagement is reversed', async () => {
  const result = await backtestScore(ws, { asOf: '2024-01-31', observeUntil: '2024-02-29', score: 'engagement' });
  expect(result.riskiestTier).toBe('disengaged');
  expect(result.auc).not.toBeNull();
});

test('previous scores are restored', async () => {
  await backtestScore(ws, { asOf: '2024-01-31', observeUntil: '2024-02-29' });
  const run = await ws.getMeta<{ asOf: string }>('scoring');
  expect(run?.asOf).toBe('2024-02-29');
  const row = await ws.queryOne<{ d: number }>("SELECT days_since_last_active AS d FROM user_metrics WHERE user_id = 'stay'");
  expect(row?.d).toBe(0);
  expect(await ws.tableExists('_backtest_user_scores')).toBe(false);
});

test('observation end before as-of', async () => {
  await expect(backtestScore(ws, { asOf: '2024-01-31', observeUntil: '2024-01-31' })).rejects.toThrow(
    'Invalid observation end 2024-01-31: it must come after the as-of date 2024-01-31, so that there is a period to observe.',
  );
});

test('impossible date', async () => {
  await expect(backtestScore(ws, { asOf: '2024-02-30', observeUntil: '2024-03-31' })).rejects.toThrow(
    'Invalid as-of date "2024-02-30": expected a calendar date written YYYY-MM-DD, e.g. 2024-06-30.',
  );
});

test('small tiers carry a warning', async () => {
  const result = await backtestScore(ws, { asOf: '2024-01-31', observeUntil: '2024-02-29' });
  const occupied = result.tiers.filter((tier) => tier.users > 0);
  expect(occupied.length).toBeGreaterThan(0);
  for (const tier of occupied) {
    expect(result.warnings.some((w) => w.startsWith(`The ${tier.tier} tier has only ${tier.users} users`))).toBe(true);
  }
});
