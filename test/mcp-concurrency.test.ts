import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_DIR, loadFixture, startHarness, textOf, type McpHarness } from './helpers/mcp.js';

let harness: McpHarness;
let userIds: string[];

/** Fields that differ between two identical calls: file names of exports and their sizes. */
const VOLATILE_KEYS = new Set(['path', 'uri', 'bytes']);

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !VOLATILE_KEYS.has(key))
      .map(([key, child]) => [key, normalize(child)]),
  );
}

function outcome(result: CallToolResult): unknown {
  return { isError: result.isError ?? false, structured: normalize(result.structuredContent), text: result.isError ? textOf(result) : undefined };
}

/** Twenty calls: reads of every kind, idempotent writes (a reload, a rescore) and two that fail. */
function calls(): [string, Record<string, unknown>][] {
  return [
    ['find_users', { atRisk: true, limit: 20 }],
    ['compute_scores', {}],
    ['find_users', { segment: 'power', limit: 10 }],
    ['describe_data', {}],
    ['explain_user', { userId: userIds[0] }],
    ['load_data', { table: 'nps', path: path.join(FIXTURE_DIR, 'nps.csv') }],
    ['find_users', { churnRiskTier: 'high', orderBy: 'engagement_score', limit: 15 }],
    ['get_diagnostic_questions', {}],
    ['explain_user', { userId: userIds[1] }],
    ['export_segment', { segment: 'dormant' }],
    ['find_users', { segment: 'whales' }],
    ['compute_scores', {}],
    ['find_users', { orderBy: 'user_id', limit: 50 }],
    ['explain_user', { userId: userIds[2] }],
    ['describe_data', {}],
    ['load_data', { table: 'support', path: path.join(FIXTURE_DIR, 'support.csv') }],
    ['find_users', { engagementTier: 'highly_engaged', limit: 5 }],
    ['explain_user', { userId: 'no-such-user' }],
    ['export_segment', { atRisk: true, format: 'parquet' }],
    ['find_users', { atRisk: false, orderBy: 'days_since_last_active', limit: 25 }],
  ];
}

beforeAll(async () => {
  harness = await startHarness();
  await loadFixture(harness);
  const page = (await harness.call('find_users', { orderBy: 'user_id', limit: 3 })).structuredContent as { users: { userId: string }[] };
  userIds = page.users.map((user) => user.userId);
});

afterAll(async () => {
  await harness.close();
});

describe('concurrency', () => {
  test('twenty concurrent calls match sequential calls', async () => {
    const list = calls();
    expect(list.length).toBe(20);

    const sequential: unknown[] = [];
    for (const [name, args] of list) sequential.push(outcome(await harness.call(name, args)));

    const concurrent = (await Promise.all(list.map(([name, args]) => harness.call(name, args)))).map(outcome);
    for (let i = 0; i < list.length; i++) expect(concurrent[i], `${list[i][0]} ${JSON.stringify(list[i][1])}`).toEqual(sequential[i]);

    expect(sequential.filter((item) => (item as { isError: boolean }).isError).length).toBe(2);
  });

  test('reads during a rescore see whole results', async () => {
    const before = (await harness.call('find_users', { atRisk: true, limit: 1 })).structuredContent as { total: number };
    const results = await Promise.all([
      harness.call('compute_scores', {}),
      ...Array.from({ length: 9 }, () => harness.call('find_users', { atRisk: true, limit: 1 })),
    ]);
    for (const result of results.slice(1)) expect((result.structuredContent as { total: number }).total).toBe(before.total);
  });
});
