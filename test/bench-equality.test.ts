import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareResults, describeComparison, type Comparison } from '../bench/compare.js';
import { generateWorkload } from '../bench/generate.js';
import { runHandSql } from '../bench/hand.js';
import { runProduct } from '../bench/product.js';
import { repoRoot } from '../bench/paths.js';

// A tiny workload: 20k events for 1,000 users. 30% of the sessions lack a session_id, so
// the 30-minute gap rule is compared as well as the session_id path.
const SPEC = { users: 1_000, events: 20_000, seed: 11, sessionIdShare: 0.7 };
const PYTHON = '/usr/bin/python3';
const hasPandas = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0;

let dir: string;
let productCsv: string;

function expectEqual(label: string, comparison: Comparison): void {
  // The description lists the first differing users, so a failure shows what differs.
  expect(describeComparison(label, comparison)).toMatch(/identical/);
  expect(comparison.missingUsers).toBe(0);
  expect(comparison.differingValues).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'bench-equality-'));
  await generateWorkload(path.join(dir, 'data'), SPEC);
  await runProduct({ dataDir: path.join(dir, 'data'), workspacePath: ':memory:', outDir: path.join(dir, 'product') });
  productCsv = path.join(dir, 'product', 'compared.csv');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('benchmark implementations', () => {
  test('hand SQL equals product', async () => {
    const handCsv = path.join(dir, 'hand.csv');
    await runHandSql(path.join(dir, 'data'), handCsv);
    const comparison = await compareResults(productCsv, handCsv);
    expect(comparison.expectedRows).toBe(SPEC.users);
    expectEqual('product vs hand SQL', comparison);
  });

  // pandas is not a dependency of npm test: Debian's python3-pandas comes from bench/setup.sh, which needs root.
  test.skipIf(!hasPandas)('pandas equals product', async () => {
    const pandasCsv = path.join(dir, 'pandas.csv');
    const run = spawnSync(PYTHON, [path.join(repoRoot(), 'bench', 'pandas_impl.py'), '--data', path.join(dir, 'data', 'csv'), '--out', pandasCsv], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expectEqual('product vs pandas', await compareResults(productCsv, pandasCsv));
  });

  test('comparison reports a changed value', async () => {
    const [header, first, ...rest] = readFileSync(productCsv, 'utf8').split('\n');
    const scoreIndex = header.split(',').indexOf('engagement_score');
    const fields = first.split(',');
    fields[scoreIndex] = String(Number(fields[scoreIndex]) + 1);
    const changedCsv = path.join(dir, 'changed.csv');
    writeFileSync(changedCsv, [header, fields.join(','), ...rest].join('\n'));

    const comparison = await compareResults(productCsv, changedCsv);
    expect(comparison.differingValues).toBe(1);
    expect(comparison.examples[0]).toMatchObject({ userId: fields[0], column: 'engagement_score' });
  });
});
