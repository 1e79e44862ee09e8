import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { analyze } from '../src/analyze.js';
import { Workspace, noProgress } from '../src/workspace/index.js';

const FIXTURE = path.resolve(__dirname, '../fixtures/saas');

let ws: Workspace;
let recovery: { persona: string; expected: string; users: number; recovered: number }[];

beforeAll(async () => {
  ws = await Workspace.open({ path: ':memory:' });
  await analyze(
    ws,
    {
      files: {
        events: path.join(FIXTURE, 'events.csv.gz'),
        users: path.join(FIXTURE, 'users.csv'),
        billing: path.join(FIXTURE, 'billing.csv'),
        support: path.join(FIXTURE, 'support.csv'),
        nps: path.join(FIXTURE, 'nps.csv'),
      },
      outDir: mkdtempSync(path.join(tmpdir(), 'personas-')),
    },
    noProgress,
  );
  // The generator calls users without events "never_active"; the product's segment for them is "inactive".
  recovery = await ws.query(`
    SELECT p.persona, p.expected_behavioral_segment AS expected, count(*) AS users,
           count(*) FILTER (WHERE s.behavioral_segment =
             CASE p.expected_behavioral_segment WHEN 'never_active' THEN 'inactive' ELSE p.expected_behavioral_segment END) AS recovered
    FROM read_csv('${path.join(FIXTURE, 'personas.csv')}', header = true) p
    JOIN user_scores s USING (user_id)
    WHERE p.expected_behavioral_segment IS NOT NULL
    GROUP BY ALL ORDER BY persona`);
});
afterAll(() => ws.close());

test('every planted persona is scored', () => {
  expect(recovery.map((row) => row.persona)).toEqual([
    'at_risk',
    'casual',
    'champion',
    'churned_after_paying',
    'dormant',
    'expansion_ready',
    'failed_payment',
    'negative_support',
    'never_active',
    'new',
    'power',
    'regular',
  ]);
});

// Measured on the committed fixture: 1,541 of 1,580 planted users (97.5%) land in their true segment.
// Most misses are regular users whose sessions fell from 4 to 2 in the last week: a 50% week-over-week
// drop, which the at-risk criteria count as at risk, as intended.
test('planted personas are recovered', () => {
  const planted = recovery.reduce((sum, row) => sum + row.users, 0);
  const recovered = recovery.reduce((sum, row) => sum + row.recovered, 0);
  expect(recovered / planted).toBeGreaterThanOrEqual(0.95);
  for (const row of recovery) {
    expect.soft(row.recovered / row.users, `${row.persona} -> ${row.expected}`).toBeGreaterThanOrEqual(0.85);
  }
});

test('clear-cut personas are recovered exactly', () => {
  for (const persona of ['power', 'casual', 'dormant', 'at_risk', 'never_active', 'new', 'champion']) {
    const row = recovery.find((r) => r.persona === persona);
    expect.soft(row?.recovered, persona).toBe(row?.users);
  }
});

test('planted at-risk users fire the composite', async () => {
  const row = await ws.queryOne<{ users: number; flagged: number }>(`
    SELECT count(*) AS users, count(*) FILTER (WHERE s.at_risk) AS flagged
    FROM read_csv('${path.join(FIXTURE, 'personas.csv')}', header = true) p JOIN user_scores s USING (user_id)
    WHERE p.persona = 'at_risk'`);
  expect(row?.flagged).toBe(row?.users);
});
