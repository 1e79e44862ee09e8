import { it, expect } from 'vitest';
import { loadData } from '../src/ingest/index.js';
import { Workspace } from '../src/workspace/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

it('perf', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ingest-perf-'));
  const ws = await Workspace.open({ path: ':memory:' });
  const file = path.join(dir, 'big.csv');
  await ws.run(`COPY (SELECT 'u' || (i % 50000) AS user_id, 'e' || (i % 40) AS event, strftime(TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND, '%Y-%m-%dT%H:%M:%SZ') AS ts, i % 7 AS extra FROM range(2000000) t(i)) TO '${file}' (HEADER)`);
  const t = Date.now();
  const report = await loadData(ws, { table: 'events', path: file });
  console.error('csv 2M ms', Date.now() - t, report.rowsLoaded);
  const t2 = Date.now();
  const report2 = await loadData(ws, { table: 'events', path: file, timestampFormat: '%Y-%m-%dT%H:%M:%SZ' });
  console.error('explicit 2M ms', Date.now() - t2, report2.rowsLoaded);
  expect(report.rowsLoaded).toBe(2000000);
  ws.close();
}, 300000);

it.skip('lockdown', async () => {
  const ws = await Workspace.open({ path: ':memory:', lockdown: true, allowedDirectories: ['/work/shared/datasets/relax'] });
  const r = await loadData(ws, { table: 'users', path: '/work/shared/datasets/relax/takehome_users.csv' });
  console.error('lockdown ok', r.rowsLoaded);
  const e = await loadData(ws, { table: 'events', path: '/work/shared/datasets/sparkify-logs/*.json' }).catch((x) => x);
  console.error('lockdown outside', e?.message);
  ws.close();
});
