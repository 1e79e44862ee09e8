import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INPUTS, type Input } from '../src/scoring/config.js';
import { columns, modelComponentColumns } from '../src/scoring/model-sql.js';
import { DEFAULT_SETTINGS } from '../src/scoring/settings.js';
import { computeScores, explainUsers } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { dayRange, insertDailySessions, insertEvents, openTestWorkspace } from './helpers/workspace.js';

const ALL_INPUTS = new Set<Input>(INPUTS);

let ws: Workspace;
beforeAll(async () => {
  ws = await openTestWorkspace();
});
afterAll(() => ws.close());

/** Scores one raw value through one band component's SQL and returns the points. */
async function pointsFor(modelId: keyof typeof DEFAULT_SETTINGS.models, componentId: string, value: number): Promise<number> {
  const model = DEFAULT_SETTINGS.models[modelId];
  const component = model.components.find((c) => c.id === componentId);
  if (!component || component.kind !== 'bands') throw new Error(`${modelId}.${componentId} is not a band component`);
  await ws.run(`CREATE OR REPLACE TABLE band_probe (user_id VARCHAR, "${component.metric}" DOUBLE)`);
  await ws.run('INSERT INTO band_probe VALUES ($1, $2)', ['u', value]);
  const single = { ...model, components: [component] };
  const row = await ws.queryOne<Record<string, number>>(
    `SELECT ${modelComponentColumns(single, ALL_INPUTS).join(', ')} FROM band_probe m`,
  );
  return Number(row?.[columns.points(model, component)]);
}

// Each edge on both sides: [model, component, value, points].
const EDGES: [keyof typeof DEFAULT_SETTINGS.models, string, number, number][] = [
  ['engagement', 'frequency', 0, 0],
  ['engagement', 'frequency', 1, 5],
  ['engagement', 'frequency', 3, 12],
  ['engagement', 'frequency', 4, 20],
  ['engagement', 'frequency', 6, 20],
  ['engagement', 'frequency', 7, 30],
  ['engagement', 'breadth', 0.2499, 3],
  ['engagement', 'breadth', 0.25, 10],
  ['engagement', 'breadth', 0.4999, 10],
  ['engagement', 'breadth', 0.5, 18],
  ['engagement', 'breadth', 0.7999, 18],
  ['engagement', 'breadth', 0.8, 25],
  ['engagement', 'depth', 4.99, 3],
  ['engagement', 'depth', 5, 10],
  ['engagement', 'depth', 15, 18],
  ['engagement', 'depth', 30, 18],
  ['engagement', 'depth', 30.01, 25],
  ['engagement', 'recency', 0, 20],
  ['engagement', 'recency', 1, 15],
  ['engagement', 'recency', 3, 15],
  ['engagement', 'recency', 4, 8],
  ['engagement', 'recency', 7, 8],
  ['engagement', 'recency', 8, 3],
  ['engagement', 'recency', 14, 3],
  ['engagement', 'recency', 15, 0],
  ['churn_risk', 'usage_decline', 0.2999, 0],
  ['churn_risk', 'usage_decline', 0.3, 10],
  ['churn_risk', 'usage_decline', 0.4999, 10],
  ['churn_risk', 'usage_decline', 0.5, 20],
  ['churn_risk', 'usage_decline', 0.6999, 20],
  ['churn_risk', 'usage_decline', 0.7, 30],
  ['churn_risk', 'recency_gap', 0.999, 0],
  ['churn_risk', 'recency_gap', 1, 5],
  ['churn_risk', 'recency_gap', 1.499, 5],
  ['churn_risk', 'recency_gap', 1.5, 15],
  ['churn_risk', 'recency_gap', 1.999, 15],
  ['churn_risk', 'recency_gap', 2, 25],
  ['expansion', 'usage_limit', 0.3999, 0],
  ['expansion', 'usage_limit', 0.4, 5],
  ['expansion', 'usage_limit', 0.5999, 5],
  ['expansion', 'usage_limit', 0.6, 15],
  ['expansion', 'usage_limit', 0.7999, 15],
  ['expansion', 'usage_limit', 0.8, 25],
  ['expansion', 'engagement_level', 29, 0],
  ['expansion', 'engagement_level', 30, 5],
  ['expansion', 'engagement_level', 49, 5],
  ['expansion', 'engagement_level', 50, 15],
  ['expansion', 'engagement_level', 70, 15],
  ['expansion', 'engagement_level', 71, 25],
];

describe('band edges', () => {
  test.each(EDGES)('%s.%s at %d', async (model, component, value, points) => {
    expect(await pointsFor(model, component, value)).toBe(points);
  });
});

describe('band edges from events', () => {
  // As of 2024-06-30 (UTC): "last 7 days" is 06-24..06-30.
  const AS_OF = '2024-06-30';
  let scored: Map<string, Awaited<ReturnType<typeof explainUsers>>[number]>;

  beforeAll(async () => {
    const local = await openTestWorkspace();
    const features = [
      { at: '10:00', event: 'feature_a' },
      { at: '10:10', event: 'feature_b' },
    ];
    // six: 6 sessions in the window; seven: 7 (one a day from 06-24).
    await insertDailySessions(local, 'six', dayRange('2024-06-25', '2024-06-30'), features);
    await insertDailySessions(local, 'seven', dayRange('2024-06-24', '2024-06-30'), features);
    // Recency edges: last active 3, 4, 14 and 15 days before 06-30.
    await insertDailySessions(local, 'recent3', ['2024-06-27'], features);
    await insertDailySessions(local, 'recent4', ['2024-06-26'], features);
    await insertDailySessions(local, 'recent14', ['2024-06-16'], features);
    await insertDailySessions(local, 'recent15', ['2024-06-15'], features);
    // Depth: a session of exactly 30 minutes, and one of 30 minutes and 1 second (30.0167).
    await insertEvents(local, [
      { user: 'depth30', event: 'feature_a', ts: '2024-06-30 10:00:00' },
      { user: 'depth30', event: 'feature_b', ts: '2024-06-30 10:20:00' },
      { user: 'depth30', event: 'feature_a', ts: '2024-06-30 10:30:00' },
      { user: 'depth3001', event: 'feature_a', ts: '2024-06-30 10:00:00' },
      { user: 'depth3001', event: 'feature_b', ts: '2024-06-30 10:20:00' },
      { user: 'depth3001', event: 'feature_a', ts: '2024-06-30 10:30:01' },
    ]);
    // Breadth: four features exist (feature_a..d); quarter uses exactly one of them.
    await insertEvents(local, [
      { user: 'catalogue', event: 'feature_c', ts: '2024-06-01 09:00:00' },
      { user: 'catalogue', event: 'feature_d', ts: '2024-06-01 09:05:00' },
      { user: 'quarter', event: 'feature_c', ts: '2024-06-29 09:00:00' },
    ]);
    await computeScores(local, { asOf: AS_OF });
    const ids = ['six', 'seven', 'recent3', 'recent4', 'recent14', 'recent15', 'depth30', 'depth3001', 'quarter'];
    scored = new Map((await explainUsers(local, ids)).map((e) => [e.userId, e]));
    local.close();
  });

  const points = (user: string, component: string) =>
    scored.get(user)?.scores.find((s) => s.model === 'engagement')?.components.find((c) => c.id === component);

  test('6 vs 7 sessions', () => {
    expect(points('six', 'frequency')).toMatchObject({ raw: 6, points: 20 });
    expect(points('seven', 'frequency')).toMatchObject({ raw: 7, points: 30 });
  });

  test('recency 3 vs 4 and 14 vs 15 days', () => {
    expect(points('recent3', 'recency')).toMatchObject({ raw: 3, points: 15 });
    expect(points('recent4', 'recency')).toMatchObject({ raw: 4, points: 8 });
    expect(points('recent14', 'recency')).toMatchObject({ raw: 14, points: 3 });
    expect(points('recent15', 'recency')).toMatchObject({ raw: 15, points: 0 });
  });

  test('30 minutes vs 30 min 1 s', () => {
    expect(points('depth30', 'depth')).toMatchObject({ raw: 30, points: 18 });
    expect(points('depth3001', 'depth')).toMatchObject({ raw: 30.017, points: 25 });
  });

  test('breadth exactly 0.25', () => {
    expect(points('quarter', 'breadth')).toMatchObject({ raw: 0.25, points: 10 });
  });
});
