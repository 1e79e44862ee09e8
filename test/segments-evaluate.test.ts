import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseRules } from '../src/rules/index.js';
import {
  RuleErrorList,
  builtinSegments,
  defineSegment,
  evaluateSegments,
  listSegments,
  parseCondition,
  saveSegment,
  segmentMemberQuery,
  segmentOverlaps,
} from '../src/segments/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { AS_OF, createRuleTables, dailyFacts, openRuleWorkspace } from './helpers/rule-tables.js';

let ws: Workspace;

/** The scoring run the hand-built tables stand for: windows end at AS_OF, so the last day included is the day before. */
const RUN = { asOf: '2024-03-10', boundaryDate: AS_OF, timeZone: 'UTC', computedAt: '2024-03-11T00:00:00.000Z', users: 3 };

beforeAll(async () => {
  ws = await openRuleWorkspace();
  await createRuleTables(ws, {
    facts: [
      ...dailyFacts('power', 'edit', 28),
      ...['export', 'share', 'comment', 'search', 'report', 'invite', 'dashboard'].map(
        (event) => ['power', event, '2024-03-09', 'power-2024-03-09'] as const),
      ['gone', 'edit', '2024-01-05', 'gone-1'],
      ['gone', 'edit', '2024-01-06', 'gone-2'],
      ['gone', 'edit', '2024-01-07', 'gone-3'],
    ],
    users: [
      { id: 'power', plan: 'Pro', signup: '2023-12-01 09:00:00', role: 'engineer' },
      { id: 'gone', plan: 'starter', signup: '2023-10-01 09:00:00', role: 'Admin' },
      { id: 'fresh', plan: 'trial', signup: '2024-03-09 09:00:00' },
    ],
    scores: [
      { id: 'power', engagement: 90 },
      { id: 'gone', engagement: 5 },
      { id: 'fresh', engagement: 0 },
    ],
    totalFeatures: 10,
    metrics: { power: { invites_total: 3 }, gone: { total_sessions: 3 } },
  });
  await ws.setMeta('scoring', RUN);
});

afterAll(() => ws.close());

async function storedMembers(segment: string): Promise<string[]> {
  const rows = await ws.query<{ user_id: string }>(
    'SELECT user_id FROM segment_members WHERE as_of = CAST($1 AS DATE) AND segment = $2 ORDER BY user_id',
    [RUN.asOf, segment],
  );
  return rows.map((row) => row.user_id);
}

describe('evaluateSegments', () => {
  test('evaluates every built-in', async () => {
    const result = await evaluateSegments(ws);
    expect(result.asOf).toBe(RUN.asOf);
    expect(result.users).toBe(3);
    expect(result.segments.map((segment) => segment.name)).toEqual(builtinSegments().map((segment) => segment.name));
    expect(result.segments.filter((segment) => segment.error)).toEqual([]);
  });

  test.each([
    ['Power Users', ['power']],
    ['Champions', ['power']],
    ['Behavioral: Dormant', ['gone']],
    ['Lifecycle: New', ['fresh']],
    ['Plan: Trial', ['fresh']],
  ])('stores the members of %s', async (name, expected) => {
    await evaluateSegments(ws);
    expect(await storedMembers(name)).toEqual(expected);
  });

  test('reports share and small-size warning', async () => {
    const result = await evaluateSegments(ws, { names: ['Power Users'] });
    expect(result.segments).toEqual([
      {
        name: 'Power Users',
        kind: 'builtin',
        size: 1,
        share: 1 / 3,
        warning: 'Segment "Power Users" has 1 member, fewer than 100: shares and comparisons on it are unreliable.',
      },
    ]);
  });

  test('re-evaluation replaces the rows of the date', async () => {
    await evaluateSegments(ws);
    await evaluateSegments(ws);
    const rows = await ws.query<{ n: number }>(
      "SELECT count(*) AS n FROM segment_members WHERE segment = 'Power Users'",
    );
    expect(rows[0].n).toBe(1);
  });

  test('unknown segment name is rejected', async () => {
    await expect(evaluateSegments(ws, { names: ['Power Userz'] })).rejects.toThrow(/Unknown segment "Power Userz"\. Similar names: .*"Power Users"/);
  });
});

describe('saved segments', () => {
  test('may not shadow a built-in', async () => {
    const [ast] = parseRules('segment "power users" { conditions { user.plan = "pro" } }');
    await expect(saveSegment(ws, ast, false)).rejects.toThrow(
      'Segment name "power users" is taken by the built-in segment "Power Users" (methodology)',
    );
    const rows = await ws.query<{ n: number }>('SELECT count(*) AS n FROM segment_definitions');
    expect(rows[0].n).toBe(0);
  });

  test('are evaluated with the built-ins', async () => {
    const [ast] = parseRules('segment "Pro plan" { conditions { user.plan = "pro" } refresh: weekly }');
    await saveSegment(ws, ast, false);
    const result = await evaluateSegments(ws);
    expect(result.segments.at(-1)).toMatchObject({ name: 'Pro plan', kind: 'saved', size: 1 });
    expect(await storedMembers('Pro plan')).toEqual(['power']);
    const [again] = parseRules('segment "PRO PLAN" { conditions { user.plan = "starter" } }');
    await expect(saveSegment(ws, again, false)).rejects.toThrow(/already exists\. Pass replace: true/);
    await saveSegment(ws, again, true);
    await evaluateSegments(ws);
    expect(await storedMembers('PRO PLAN')).toEqual(['gone']);
    expect(await storedMembers('Pro plan')).toEqual([]);
  });

  test('one that no longer checks reports its error', async () => {
    await ws.run(
      `INSERT INTO segment_definitions VALUES ('Old event', 'segment "Old event" { conditions { events.count("retired", last_7_days) > 0 } }', NULL, NULL, NULL, now()::TIMESTAMP)`,
    );
    const result = await evaluateSegments(ws);
    const failed = result.segments.find((segment) => segment.name === 'Old event');
    expect(failed?.error).toMatch(/Unknown event "retired"/);
    expect(result.segments.find((segment) => segment.name === 'Power Users')?.size).toBe(1);
    const listed = await listSegments(ws, { limit: 200 });
    expect(listed.segments.find((segment) => segment.name === 'Old event')).toMatchObject({ size: null });
    await ws.run("DELETE FROM segment_definitions WHERE name = 'Old event'");
  });
});

describe('defineSegment', () => {
  test('saves without scores', async () => {
    const fresh = await openRuleWorkspace();
    try {
      const result = await defineSegment(fresh, { rule: 'segment "Pro" { conditions { user.plan = "pro" } }' });
      expect(result).toMatchObject({ name: 'Pro', size: null, share: null, sample: [] });
      expect(result.warnings).toEqual([
        'Saved, but not evaluated: there are no scores yet. Run compute_scores, then list_segments or find_users.',
      ]);
      expect(result.canonical).toBe('segment "Pro" {\n  conditions {\n    user.plan = "pro"\n  }\n}\n');
    } finally {
      fresh.close();
    }
  });
});

describe('without a users table', () => {
  test('segments reading it report an error', async () => {
    const bare = await openRuleWorkspace();
    try {
      await createRuleTables(bare, { facts: dailyFacts('power', 'edit', 10), users: [{ id: 'power', plan: 'pro', signup: null }] });
      await bare.run('DROP TABLE users');
      await bare.setMeta('scoring', RUN);
      const result = await evaluateSegments(bare);
      const plan = result.segments.find((segment) => segment.name === 'Plan: Free');
      expect(plan?.error).toMatch(/could not be evaluated: .*users/);
      const behavioral = result.segments.find((segment) => segment.name === 'Behavioral: Power');
      expect(behavioral?.error).toBeUndefined();
    } finally {
      bare.close();
    }
  });
});

describe('member queries', () => {
  async function membersOf(request: { segmentName?: string; condition?: string }): Promise<string[]> {
    const query = await segmentMemberQuery(ws, request);
    if (!query) throw new Error('no member query');
    const rows = await ws.query<{ user_id: string }>(
      `SELECT user_id FROM user_metrics WHERE user_id IN (${query.sql}) ORDER BY user_id`,
      query.params as never,
    );
    return rows.map((row) => row.user_id);
  }

  test('by segment name, any case', async () => {
    expect(await membersOf({ segmentName: 'champions' })).toEqual(['power']);
  });

  test('by inline condition', async () => {
    expect(await membersOf({ condition: 'events.session_count(last_7_days) >= 5 OR user.plan = "trial"' })).toEqual(['fresh', 'power']);
  });

  test('both at once is rejected', async () => {
    await expect(segmentMemberQuery(ws, { segmentName: 'Champions', condition: 'user.plan = "pro"' })).rejects.toThrow(
      'Pass either segmentName or condition, not both.',
    );
  });

  test('condition errors point into the condition', async () => {
    const error = await parseCondition(ws, 'user.plann = "pro"\n  AND events.sesion_count(last_7_days) > 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuleErrorList);
    const message = (error as Error).message;
    expect(message).toMatch(/^The rule has 2 errors:/);
    expect(message).toContain('condition:1:6: Unknown attribute "user.plann"');
    expect(message).toContain('user.plann = "pro"\n     ^^^^^');
    expect(message).toContain('condition:2:14: Unknown function or event "events.sesion_count"');
  });

  test('condition may not close its block', async () => {
    await expect(parseCondition(ws, 'user.plan = "pro" } } segment "x" { conditions { true')).rejects.toThrow(
      /closes its block early/,
    );
  });
});

describe('segmentOverlaps', () => {
  test('lists pairs sharing members', async () => {
    await evaluateSegments(ws);
    const report = await segmentOverlaps(ws, { limit: 200 });
    const pair = report.overlaps.find((o) => o.first === 'Champions' && o.second === 'Power Users');
    expect(pair).toMatchObject({ users: 1, firstSize: 1, secondSize: 1, shareOfSmaller: 1 });
    expect(pair?.warning).toMatch(/Only 1 users are in both/);
    expect(report.total).toBe(report.overlaps.length);
  });

  test('pages with a cursor', async () => {
    const first = await segmentOverlaps(ws, { limit: 2 });
    expect(first.overlaps).toHaveLength(2);
    const second = await segmentOverlaps(ws, { limit: 2, cursor: first.nextCursor });
    expect(second.overlaps[0]).not.toEqual(first.overlaps[0]);
    await expect(segmentOverlaps(ws, { limit: 2, minShare: 0.5, cursor: first.nextCursor })).rejects.toThrow(/Invalid cursor/);
  });
});
