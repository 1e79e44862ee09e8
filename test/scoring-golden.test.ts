import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportUsersCsv } from '../src/analyze.js';
import { computeScores, explainUsers, findUsers, type UserExplanation } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { createUsers, dayRange, insertDailySessions, insertEvents, openTestWorkspace } from './helpers/workspace.js';

/*
 * Golden data set, scored as of Sunday 2024-03-31 in UTC. The boundary D is 2024-04-01,
 * so "last 7 days" is 2024-03-25..31 and "today" is 2024-03-31. The feature catalogue is
 * project_created, task_added, invite_sent and comment_added (4 features); login-like,
 * pricing and locked-feature events are not features. No billing, support or usage data
 * is loaded, so those components are missing and totals are scaled.
 *
 * ana (pro, signed up 2024-01-01): one 40-minute session a day from 03-18 to 03-31
 *   (project_created 09:00, task_added 09:20, invite_sent 09:40), and on 03-30 also
 *   comment_added at 09:45, so that session lasts 45 minutes.
 * ben (free, signed up 2024-03-01): one-event sessions (task_added at 12:00) on 03-04,
 *   06, 08, 11, 13, 15, 18 and 20; on 03-26 pricing_page_view 12:00 and
 *   locked_feature_click 12:05 (one 5-minute session).
 * cara (enterprise, signed up 2024-01-10): 10-minute sessions (project_created 08:00,
 *   invite_sent 08:10) on 02-01, 02-02 and 02-05.
 * dan (no plan, signed up 2024-03-30): no event.
 */
const AS_OF = '2024-03-31';

let ws: Workspace;
let byId: Map<string, UserExplanation>;

beforeAll(async () => {
  ws = await openTestWorkspace();
  await createUsers(ws, [
    { user: 'ana', signup: '2024-01-01 08:00:00', plan: 'pro' },
    { user: 'ben', signup: '2024-03-01 08:00:00', plan: 'free' },
    { user: 'cara', signup: '2024-01-10 08:00:00', plan: 'enterprise' },
    { user: 'dan', signup: '2024-03-30 08:00:00', plan: null },
  ]);
  const anaSteps = [
    { at: '09:00', event: 'project_created' },
    { at: '09:20', event: 'task_added' },
    { at: '09:40', event: 'invite_sent' },
  ];
  await insertDailySessions(ws, 'ana', dayRange('2024-03-18', '2024-03-31'), anaSteps);
  await insertEvents(ws, [{ user: 'ana', event: 'comment_added', ts: '2024-03-30 09:45:00' }]);
  const benDays = ['2024-03-04', '2024-03-06', '2024-03-08', '2024-03-11', '2024-03-13', '2024-03-15', '2024-03-18', '2024-03-20'];
  await insertDailySessions(ws, 'ben', benDays, [{ at: '12:00', event: 'task_added' }]);
  await insertEvents(ws, [
    { user: 'ben', event: 'pricing_page_view', ts: '2024-03-26 12:00:00' },
    { user: 'ben', event: 'locked_feature_click', ts: '2024-03-26 12:05:00' },
  ]);
  await insertDailySessions(ws, 'cara', ['2024-02-01', '2024-02-02', '2024-02-05'], [
    { at: '08:00', event: 'project_created' },
    { at: '08:10', event: 'invite_sent' },
  ]);
  await computeScores(ws, { asOf: AS_OF });
  const explanations = await explainUsers(ws, ['ana', 'ben', 'cara', 'dan']);
  byId = new Map(explanations.map((explanation) => [explanation.userId, explanation]));
});

afterAll(() => ws.close());

function user(id: string): UserExplanation {
  const explanation = byId.get(id);
  if (!explanation) throw new Error(`no explanation for ${id}`);
  return explanation;
}

function component(id: string, model: string, componentId: string) {
  const found = user(id).scores.find((score) => score.model === model)?.components.find((c) => c.id === componentId);
  if (!found) throw new Error(`no component ${model}.${componentId}`);
  return found;
}

function score(id: string, model: string) {
  const found = user(id).scores.find((entry) => entry.model === model);
  if (!found) throw new Error(`no model ${model}`);
  return found;
}

describe('golden engagement', () => {
  // ana: 7 sessions in 03-25..31 -> 30; 4 of 4 features in 30 days = 1.0 -> 25;
  // 14 sessions in 28 days: (13 * 40 + 45) / 14 = 40.357 minutes -> 25; active today -> 20. Total 100.
  test('ana', () => {
    expect(component('ana', 'engagement', 'frequency')).toMatchObject({ raw: 7, points: 30, band: '7 or more sessions' });
    expect(component('ana', 'engagement', 'breadth')).toMatchObject({ raw: 1, points: 25 });
    expect(component('ana', 'engagement', 'depth')).toMatchObject({ raw: 40.357, points: 25, band: 'over 30 minutes' });
    expect(component('ana', 'engagement', 'recency')).toMatchObject({ raw: 0, points: 20, band: 'active today' });
    expect(score('ana', 'engagement')).toMatchObject({ score: 100, tier: 'highly_engaged' });
  });

  // ben: 1 session in the last 7 days -> 5; 1 of 4 features (task_added) = 0.25 -> 10;
  // 9 sessions in 28 days, eight of 0 minutes and one of 5: 5 / 9 = 0.556 -> 3; last
  // active 03-26, 5 days ago -> 8. Total 26.
  test('ben', () => {
    expect(component('ben', 'engagement', 'frequency')).toMatchObject({ raw: 1, points: 5 });
    expect(component('ben', 'engagement', 'breadth')).toMatchObject({ raw: 0.25, points: 10, band: '25-49% of features' });
    expect(component('ben', 'engagement', 'depth')).toMatchObject({ raw: 0.556, points: 3 });
    expect(component('ben', 'engagement', 'recency')).toMatchObject({ raw: 5, points: 8, band: '4-7 days ago' });
    expect(score('ben', 'engagement')).toMatchObject({ score: 26, tier: 'low' });
  });

  // cara: 0 sessions -> 0; 0 of 4 features -> 3; no session in 28 days (NULL) -> 3;
  // 55 days since 02-05 -> 0. Total 6.
  test('cara', () => {
    expect(component('cara', 'engagement', 'frequency')).toMatchObject({ raw: 0, points: 0 });
    expect(component('cara', 'engagement', 'breadth')).toMatchObject({ raw: 0, points: 3 });
    expect(component('cara', 'engagement', 'depth')).toMatchObject({ raw: null, points: 3, band: 'no sessions' });
    expect(component('cara', 'engagement', 'recency')).toMatchObject({ raw: 55, points: 0 });
    expect(score('cara', 'engagement')).toMatchObject({ score: 6, tier: 'disengaged' });
  });

  // dan: never active: 0 + 3 (breadth 0) + 3 (no sessions) + 0 (never active) = 6.
  test('dan', () => {
    expect(component('dan', 'engagement', 'recency')).toMatchObject({ raw: null, points: 0, band: 'never active' });
    expect(score('dan', 'engagement')).toMatchObject({ score: 6, tier: 'disengaged' });
  });
});

describe('golden activation', () => {
  // ana: project_created 20 + task_added 15 + invite_sent 25 = 60 (partially, 50-79).
  // ben: task_added 15 (not activated, 0-19). cara: 20 + 25 = 45 (early, 20-49). dan: 0.
  test.each([
    ['ana', 60, 'partially_activated'],
    ['ben', 15, 'not_activated'],
    ['cara', 45, 'early'],
    ['dan', 0, 'not_activated'],
  ])('%s', (id, total, tier) => {
    expect(score(id, 'activation')).toMatchObject({ score: total, tier });
  });

  test('milestone components', () => {
    expect(component('ana', 'activation', 'invite_sent')).toMatchObject({ raw: 1, points: 25, band: 'completed' });
    expect(component('ana', 'activation', 'task_completed')).toMatchObject({ raw: 0, points: 0, band: 'not completed' });
  });
});

describe('golden expansion', () => {
  // The usage-limit component is missing (no usage data), so totals are scaled from 75 to 100.
  // ana: invites 15 + collaboration 10 = 25; no interest 0; engagement 100 > 70 -> 25.
  //   50 * 100 / 75 = 66.7 -> 67 (moderate). ben: interest 15 + 10 = 25; engagement 26 -> 0:
  //   25 * 100 / 75 = 33.3 -> 33 (low). cara and dan: 0 (not ready).
  test('ana', () => {
    expect(component('ana', 'expansion', 'usage_limit')).toMatchObject({ missing: true, points: null });
    expect(component('ana', 'expansion', 'team_growth')).toMatchObject({
      points: 25,
      signalsFired: ['invited team members', 'used collaboration features'],
    });
    expect(component('ana', 'expansion', 'engagement_level')).toMatchObject({ raw: 100, points: 25 });
    expect(score('ana', 'expansion')).toMatchObject({ score: 67, tier: 'moderate' });
  });

  test('ben', () => {
    expect(component('ben', 'expansion', 'feature_interest')).toMatchObject({
      points: 25,
      signalsFired: ['clicked a locked feature', 'viewed the pricing page'],
    });
    expect(component('ben', 'expansion', 'engagement_level')).toMatchObject({ raw: 26, points: 0 });
    expect(score('ben', 'expansion')).toMatchObject({ score: 33, tier: 'low' });
  });

  test.each(['cara', 'dan'])('%s not ready', (id) => {
    expect(score(id, 'expansion')).toMatchObject({ score: 0, tier: 'not_ready' });
  });
});

describe('golden churn risk', () => {
  // Support and billing are missing, so totals are scaled from 65 to 100.
  // ana: baseline 7 sessions in 02-26..03-24 = 1.75 a week, 7 this week -> decline 0 -> 0;
  //   gap ratio 0 / 1 -> 0; 14 sessions in 14 days, 0 before -> no trend. Total 0.
  test('ana', () => {
    expect(component('ana', 'churn_risk', 'usage_decline')).toMatchObject({ raw: 0, points: 0 });
    expect(component('ana', 'churn_risk', 'recency_gap')).toMatchObject({ raw: 0, points: 0 });
    expect(component('ana', 'churn_risk', 'support')).toMatchObject({ missing: true });
    expect(score('ana', 'churn_risk')).toMatchObject({ score: 0, tier: 'healthy' });
  });

  // ben: baseline 8 sessions / 4 = 2 a week, 1 this week -> decline 0.5 -> 20;
  //   gaps 2,2,3,2,2,3,2,6 -> median 2, 5 days / 2 = 2.5 -> 25; last 14 days 3 sessions
  //   against 6 before (3 < 4.8) -> 10. 55 * 100 / 65 = 84.6 -> 85 (high).
  test('ben', () => {
    expect(component('ben', 'churn_risk', 'usage_decline')).toMatchObject({ raw: 0.5, points: 20 });
    expect(component('ben', 'churn_risk', 'recency_gap')).toMatchObject({ raw: 2.5, points: 25 });
    expect(component('ben', 'churn_risk', 'trend')).toMatchObject({ points: 10, signalsFired: ['sessions declining'] });
    expect(score('ben', 'churn_risk')).toMatchObject({ score: 85, tier: 'high' });
  });

  // cara: no baseline -> 0; gaps 1 and 3 -> median 2, 55 / 2 = 27.5 -> 25; no trend.
  //   25 * 100 / 65 = 38.5 -> 38 (low). dan: nothing -> 0.
  test('cara and dan', () => {
    expect(component('cara', 'churn_risk', 'usage_decline')).toMatchObject({ raw: null, points: 0 });
    expect(component('cara', 'churn_risk', 'recency_gap')).toMatchObject({ raw: 27.5, points: 25 });
    expect(score('cara', 'churn_risk')).toMatchObject({ score: 38, tier: 'low' });
    expect(score('dan', 'churn_risk')).toMatchObject({ score: 0, tier: 'healthy' });
  });
});

describe('golden segments', () => {
  // ana: 7 sessions, breadth 1.0, 90 days since signup -> power. ben: sessions dropped
  // from 2 to 1 week over week (50%) -> at_risk. cara: 55 days quiet after 3 sessions ->
  // dormant. dan: no event -> inactive.
  test.each([
    ['ana', 'power'],
    ['ben', 'at_risk'],
    ['cara', 'dormant'],
    ['dan', 'inactive'],
  ])('%s behavioural segment', (id, segment) => {
    expect(user(id).behavioralSegment.segment).toBe(segment);
  });

  // ben: breadth contraction (0 features this week against a peak of 1) and login gap
  // (5 > 2 * 2); usage decline does not fire (1 is not below 0.5 * 2). cara: breadth
  // contraction (peak 2 in the week of 02-05) and login gap (55 > 4).
  test('at-risk signals', () => {
    const fired = (id: string) => user(id).atRisk.signals.filter((s) => s.fired).map((s) => s.id);
    expect(fired('ana')).toEqual([]);
    expect(fired('ben')).toEqual(['breadth_contraction', 'login_gap']);
    expect(fired('cara')).toEqual(['breadth_contraction', 'login_gap']);
    expect(user('ben').atRisk.atRisk).toBe(true);
    expect(user('ben').atRisk.signals.find((s) => s.id === 'support_escalation')?.fired).toBeNull();
  });

  // ana: R 5 (today), F 3 (14 sessions / 4 = 3.5 a week), M 4 (pro) -> 534 promising.
  // ben: R 3 (5 days), F 3 (9 / 4 = 2.25), M 2 (active free) -> 332 promising.
  // cara: R 1, F 1, M 5 -> 115 lost. dan: R 1, F 1, no plan -> 11- lost.
  test.each([
    ['ana', '534', 'promising'],
    ['ben', '332', 'promising'],
    ['cara', '115', 'lost'],
    ['dan', '11-', 'lost'],
  ])('%s RFM', (id, code, segment) => {
    expect(user(id).rfm).toMatchObject({ code, segment });
  });

  // ana: 90 days, top of the 2 users with sessions in 28 days (rank share 0), breadth 1 ->
  // power. ben: at risk (2 signals). cara: 55 quiet days >= 21 (weekly cadence) -> churned,
  // never activated (45 < 50). dan: signed up 1 day ago, activation 0 -> new.
  test.each([
    ['ana', 'power', null],
    ['ben', 'at_risk', null],
    ['cara', 'churned', 'never_activated'],
    ['dan', 'new', null],
  ])('%s lifecycle', (id, stage, dormant) => {
    expect(user(id).lifecycle.stage).toBe(stage);
    expect(user(id).dormancy.segment).toBe(dormant);
  });

  test('criteria explained', () => {
    const cara = user('cara');
    const dormant = cara.behavioralSegment.checked.find((check) => check.segment === 'dormant');
    expect(dormant).toMatchObject({ matched: true, assigned: true });
    expect(dormant?.criteria.map((c) => [c.value, c.met])).toEqual([
      [55, true],
      [3, true],
    ]);
    const power = cara.behavioralSegment.checked.find((check) => check.segment === 'power');
    expect(power?.matched).toBe(false);
    const paying = cara.dormancy.checked.find((check) => check.segment === 'churned_after_paying');
    expect(paying?.criteria[0].skipped).toContain('billing is not available');
    expect(paying?.criteria[0].met).toBe(false);
    expect(cara.dormancy).toMatchObject({ thresholdDays: 21, inactiveDays: 55 });
  });
});

describe('golden reasons', () => {
  test('cara reasons', () => {
    expect(user('cara').reasons).toEqual([
      'dormant: no activity for 30 days or more; had 3 or more sessions before',
      'at-risk signals (2 of 4, at risk from 2): breadth_contraction, login_gap',
      'engagement score 6 (disengaged)',
      'activation score 45 (early)',
      'expansion readiness score 0 (not_ready)',
      'churn risk score 38 (low)',
      'lifecycle churned: no activity for 21 days or more (the dormancy threshold of a weekly product)',
      'dormant: never_activated: no activity for 21 days or more; activation score below 50',
      'days since last active: 55',
    ]);
  });

  test('users.csv matches explanations', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'scoring-golden-')), 'users.csv');
    await exportUsersCsv(ws, file);
    const rows = await ws.query<{ user_id: string; reasons: string }>(
      `SELECT user_id, reasons FROM read_csv('${file}', header = true, all_varchar = true) ORDER BY user_id`,
    );
    expect(readFileSync(file, 'utf8').split('\n')[0]).toContain('reasons');
    for (const row of rows) expect(row.reasons).toBe(user(row.user_id).reasons.join(' | '));
  });

  test('find_users uses the same reasons', async () => {
    const found = await findUsers(ws, { orderBy: 'user_id', descending: false });
    for (const entry of found.users) expect(entry.reasons).toEqual(user(entry.userId).reasons);
  });
});
