import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { analyze } from '../src/analyze.js';
import { compileSegment } from '../src/rules/index.js';
import { DEFAULT_SETTINGS } from '../src/scoring/index.js';
import { loadBuiltinSegments } from '../src/segments/catalog.js';
import { Workspace, noProgress } from '../src/workspace/index.js';
import { DATASETS_MISSING, datasetPath } from './helpers/datasets.js';

// The behavioural rule files and the engine's behavioral_segment column describe the same
// assignment; these tests check that, user by user, on data with and without feature variety.

const FIXTURE = path.resolve(__dirname, '../fixtures/saas');
const RELAX = datasetPath('relax');

const RULE_FOR_SEGMENT: Record<string, string> = {
  inactive: 'Behavioral: Inactive',
  dormant: 'Behavioral: Dormant',
  at_risk: 'Behavioral: At Risk',
  power: 'Behavioral: Power',
  regular: 'Behavioral: Regular',
  new: 'Behavioral: New',
  casual: 'Behavioral: Casual',
};

async function compareRulesWithEngine(ws: Workspace): Promise<void> {
  const run = await ws.getMeta<{ boundaryDate: string }>('scoring');
  const builtins = loadBuiltinSegments();
  for (const [segment, ruleName] of Object.entries(RULE_FOR_SEGMENT)) {
    const rule = builtins.find((b) => b.name === ruleName);
    expect(rule, ruleName).toBeDefined();
    const compiled = compileSegment(rule!.ast, { asOf: run!.boundaryDate, nonFeatureEvents: DEFAULT_SETTINGS.events.nonFeature });
    const members = (await ws.query<{ user_id: string }>(compiled.sql, compiled.params as never)).map((r) => r.user_id);
    const engine = (
      await ws.query<{ user_id: string }>('SELECT user_id FROM user_scores WHERE behavioral_segment = $1 ORDER BY user_id', [segment])
    ).map((r) => r.user_id);
    expect.soft([...members].sort(), `${ruleName} vs ${segment}`).toEqual(engine);
  }
}

describe('synthetic fixture', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.open({ path: ':memory:' });
    await analyze(
      ws,
      {
        files: { events: path.join(FIXTURE, 'events.csv.gz'), users: path.join(FIXTURE, 'users.csv') },
        outDir: mkdtempSync(path.join(tmpdir(), 'equivalence-')),
      },
      noProgress,
    );
  });
  afterAll(() => ws.close());

  test('rule members equal the engine segment', () => compareRulesWithEngine(ws));
});

describe.skipIf(!existsSync(RELAX))(`relax login log (no feature variety)${DATASETS_MISSING}`, () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.open({ path: ':memory:' });
    await analyze(
      ws,
      {
        files: { events: path.join(RELAX, 'takehome_user_engagement.csv'), users: path.join(RELAX, 'takehome_users.csv') },
        loadOptions: { users: { mapping: { user_id: 'object_id' } }, events: { eventName: 'login' } },
        outDir: mkdtempSync(path.join(tmpdir(), 'equivalence-')),
      },
      noProgress,
    );
  });
  afterAll(() => ws.close());

  test('rule members equal the engine segment', () => compareRulesWithEngine(ws));
});
