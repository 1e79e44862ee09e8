import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RFM_SEGMENTS, rfmQuantiles, rfmSegmentOf } from '../src/scoring/index.js';
import { rfmSegmentTable } from '../src/scoring/rfm.js';
import { RFM_SEGMENT_SQL } from '../src/scoring/segment-sql.js';
import type { Workspace } from '../src/workspace/index.js';
import { insertBilling, openTestWorkspace } from './helpers/workspace.js';

const CDNOW = '/work/shared/datasets/cdnow/CDNOW_master.txt';
const DOC = path.join(import.meta.dirname, '..', 'docs', 'scoring.md');

let ws: Workspace;
beforeAll(async () => {
  ws = await openTestWorkspace();
});
afterAll(() => ws.close());

describe('RFM segment map', () => {
  const codes: [number, number, number][] = [];
  for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) codes.push([r, f, m]);

  test('SQL agrees with the map on 125 codes', async () => {
    const values = codes.map(([r, f, m]) => `(${r}, ${f}, ${m})`).join(', ');
    const rows = await ws.query<{ code: string; segment: string }>(
      `SELECT rfm_r::VARCHAR || rfm_f::VARCHAR || rfm_m::VARCHAR AS code, ${RFM_SEGMENT_SQL} AS segment
       FROM (VALUES ${values}) t(rfm_r, rfm_f, rfm_m)`,
    );
    expect(rows).toHaveLength(125);
    for (const row of rows) {
      const [r, f, m] = row.code.split('').map(Number);
      expect(row.segment, row.code).toBe(rfmSegmentOf(r, f, m));
    }
  });

  test('every code lands in one known segment', () => {
    const known = new Set<string>(RFM_SEGMENTS.map((segment) => segment.id));
    const counts = new Map<string, number>();
    for (const [r, f, m] of codes) {
      const segment = rfmSegmentOf(r, f, m);
      expect(known.has(segment)).toBe(true);
      counts.set(segment, (counts.get(segment) ?? 0) + 1);
    }
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(125);
    expect(counts.size).toBe(RFM_SEGMENTS.length);
  });

  test.each([
    ['555', 'champions'],
    ['554', 'champions'],
    ['545', 'champions'],
    ['444', 'loyal'],
    ['445', 'loyal'],
    ['455', 'loyal'],
    ['334', 'promising'],
    ['343', 'promising'],
    ['344', 'promising'],
    ['233', 'need_attention'],
    ['234', 'need_attention'],
    ['244', 'need_attention'],
    ['111', 'lost'],
    ['112', 'lost'],
    ['121', 'lost'],
  ])('%s is %s', (code, segment) => {
    const [r, f, m] = code.split('').map(Number);
    expect(rfmSegmentOf(r, f, m)).toBe(segment);
  });

  test('docs table matches the code', () => {
    expect(readFileSync(DOC, 'utf8')).toContain(rfmSegmentTable());
  });
});

describe('quantile RFM ties', () => {
  test('equal values share one score', async () => {
    await ws.run('DROP TABLE IF EXISTS billing');
    const rows = ['a', 'b', 'c', 'd', 'e'].map((user) => ({ user, ts: '2024-01-10 12:00:00', kind: 'payment', amount: 10 }));
    await insertBilling(ws, rows);
    const result = await rfmQuantiles(ws, { source: { kind: 'billing' } });
    expect(result.bins).toEqual({ r: { '1': 5 }, f: { '1': 5 }, m: { '1': 5 } });
  });

  test('heavy ties leave bins empty', async () => {
    // Eight customers buy once, two buy on three different days: F ranks are 1 (x8) and
    // 9 (x2), so scores are 1 and 1 + floor(5 * 8 / 10) = 5, and 2-4 stay empty.
    await ws.run('DROP TABLE IF EXISTS billing');
    const once = Array.from({ length: 8 }, (_, i) => ({ user: `once${i}`, ts: '2024-01-10 12:00:00', kind: 'payment', amount: 5 }));
    const thrice = ['x', 'y'].flatMap((user) =>
      ['2024-01-08', '2024-01-09', '2024-01-10'].map((day) => ({ user, ts: `${day} 12:00:00`, kind: 'payment', amount: 5 })),
    );
    await insertBilling(ws, [...once, ...thrice]);
    const result = await rfmQuantiles(ws, { source: { kind: 'billing' } });
    expect(result.bins.f).toEqual({ '1': 8, '5': 2 });
    expect(result.customers).toBe(10);
  });

  test('same-day orders are one purchase', async () => {
    await ws.run('DROP TABLE IF EXISTS billing');
    await insertBilling(ws, [
      { user: 'p', ts: '2024-01-10 09:00:00', kind: 'payment', amount: 10 },
      { user: 'p', ts: '2024-01-10 17:00:00', kind: 'payment', amount: 30 },
      { user: 'p', ts: '2024-01-12 09:00:00', kind: 'payment', amount: 20 },
      { user: 'q', ts: '2024-01-12 09:00:00', kind: 'refund', amount: 99 },
    ]);
    await rfmQuantiles(ws, { source: { kind: 'billing' } });
    const row = await ws.queryOne('SELECT purchase_days, total_value, mean_value, mean_repeat_value FROM rfm_quantile_scores');
    expect(row).toEqual({ purchase_days: 2, total_value: 60, mean_value: 30, mean_repeat_value: 20 });
  });

  test('no payments is an error', async () => {
    await ws.run('DROP TABLE IF EXISTS billing');
    await insertBilling(ws, [{ user: 'q', ts: '2024-01-12 09:00:00', kind: 'refund', amount: 99 }]);
    await expect(rfmQuantiles(ws, { source: { kind: 'billing' } })).rejects.toThrow(
      'No payments to score: the billing table has no row of kind "payment" with a user_id and an amount. Load a billing file first.',
    );
  });
});

describe('CDNOW known answers', () => {
  const lines = readFileSync(CDNOW, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '');
  const [header, ...data] = lines;
  const days = new Map<string, Set<string>>();
  for (const line of data) {
    const [customer, date] = line.trim().split(/\s+/);
    const set = days.get(customer) ?? new Set<string>();
    set.add(date);
    days.set(customer, set);
  }
  const source = (file: string) =>
    ({
      kind: 'file',
      path: file,
      format: 'whitespace',
      userColumn: 'customer_id',
      dateColumn: 'date',
      amountColumn: 'dollar_value',
      dateFormat: '%Y%m%d',
    }) as const;
  const snapshot = () =>
    ws.query(
      `SELECT user_id, purchase_days, repeat_purchases, round(mean_repeat_value, 6) AS mean_repeat_value,
         round(mean_value, 6) AS mean_value, rfm_code
       FROM rfm_quantile_scores ORDER BY user_id`,
    );

  test('frequency counts distinct purchase days', async () => {
    const result = await rfmQuantiles(ws, { source: source(CDNOW), asOf: '1998-06-30' });
    expect(result.transactions).toBe(data.length);
    expect(result.rowsRejected).toBe(0);
    expect(result.customers).toBe(days.size);
    const rows = await ws.query<{ user_id: string; purchase_days: number }>('SELECT user_id, purchase_days FROM rfm_quantile_scores');
    const mismatches = rows.filter((row) => days.get(row.user_id)?.size !== row.purchase_days);
    expect(mismatches).toEqual([]);
    // At least one customer ordered twice on one day, so orders and purchase days differ.
    expect(data.length).toBeGreaterThan([...days.values()].reduce((sum, set) => sum + set.size, 0));
  });

  test('mean repeat value ignores row order', async () => {
    await rfmQuantiles(ws, { source: source(CDNOW), asOf: '1998-06-30' });
    const forward = await snapshot();
    const reversedFile = path.join(mkdtempSync(path.join(tmpdir(), 'cdnow-')), 'reversed.txt');
    writeFileSync(reversedFile, [header, ...[...data].reverse()].join('\n'));
    await rfmQuantiles(ws, { source: source(reversedFile), asOf: '1998-06-30' });
    const backward = await snapshot();
    expect(backward).toEqual(forward);
  });
});
