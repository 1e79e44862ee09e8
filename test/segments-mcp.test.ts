import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer } from '../src/server.js';
import { PathPolicy, type Workspace } from '../src/workspace/index.js';
import { openHistoryWorkspace } from './helpers/segment-history-data.js';

let ws: Workspace;
let client: Client;

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function ok<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

beforeAll(async () => {
  ws = await openHistoryWorkspace();
  const server = createServer({ ws, paths: new PathPolicy([]), outputDir: mkdtempSync(path.join(tmpdir(), 'segments-mcp-')) });
  client = new Client({ name: 'segments-test', version: '1.0.0' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  await ok('compute_scores');
});

afterAll(async () => {
  await client.close();
  ws.close();
});

interface Defined {
  name: string;
  size: number;
  share: number;
  users: number;
  sample: { userId: string; reasons: string[] }[];
  warnings: string[];
}

interface Listed {
  total: number;
  segments: { name: string; kind: string; size: number | null; refresh: string | null; warning?: string }[];
  nextCursor?: string;
}

const DAILY_RULE = `segment "Daily editors" {
  description: "Used the product on 10 or more of the last 14 days."
  conditions {
    events.active_days(last_14_days) >= 10
  }
  refresh: daily
  action: "Invite them to the beta."
}`;

describe('segment tools over MCP', () => {
  test('tools are listed', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ['define_segment', 'list_segments', 'delete_segment', 'segment_overlaps', 'backfill_history', 'segment_history', 'segment_transitions']) {
      expect(names).toContain(name);
    }
  });

  test('define, list, find and delete', async () => {
    const defined = await ok<Defined>('define_segment', { rule: DAILY_RULE });
    expect(defined.name).toBe('Daily editors');
    expect(defined.size).toBeGreaterThan(0);
    expect(defined.share).toBeCloseTo(defined.size / defined.users, 10);
    expect(defined.sample.length).toBe(Math.min(10, defined.size));
    expect(defined.sample[0].reasons.length).toBeGreaterThan(0);
    expect(defined.warnings[0]).toMatch(/fewer than 100/);

    const listed = await ok<Listed>('list_segments', { limit: 200 });
    const saved = listed.segments.find((segment) => segment.name === 'Daily editors');
    expect(saved).toMatchObject({ kind: 'saved', size: defined.size, refresh: 'daily' });
    expect(listed.total).toBe(listed.segments.length);
    expect(listed.segments.filter((segment) => segment.kind === 'builtin').length).toBeGreaterThanOrEqual(28);

    const found = await ok<{ total: number; users: { userId: string }[] }>('find_users', { segmentName: 'daily editors', limit: 500 });
    expect(found.total).toBe(defined.size);
    const inline = await ok<{ total: number }>('find_users', { condition: 'events.active_days(last_14_days) >= 10' });
    expect(inline.total).toBe(defined.size);
    const narrowed = await ok<{ total: number }>('find_users', { condition: 'events.active_days(last_14_days) >= 10', segment: 'power' });
    expect(narrowed.total).toBeLessThanOrEqual(defined.size);

    const deleted = await ok<{ name: string }>('delete_segment', { name: 'Daily editors' });
    expect(deleted.name).toBe('Daily editors');
    const after = await ok<Listed>('list_segments', { limit: 200 });
    expect(after.segments.some((segment) => segment.name === 'Daily editors')).toBe(false);
    const gone = await call('find_users', { segmentName: 'Daily editors' });
    expect(gone.isError).toBe(true);
    expect(text(gone)).toMatch(/Unknown segment "Daily editors"/);
  });

  test('find_users reports condition errors', async () => {
    const result = await call('find_users', { condition: 'user.plan = "pro" AND events.active_dayz(last_7_days) > 1' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^The rule has 1 error:\n\ncondition:1:30: Unknown function or event "events.active_dayz"/);
    expect(text(result)).toContain('Did you mean "events.active_days"?');
  });

  test('find_users rejects name and condition together', async () => {
    const result = await call('find_users', { segmentName: 'Champions', condition: 'user.plan = "pro"' });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('Pass either segmentName or condition, not both.');
  });

  test('list evaluates only after new scores', async () => {
    await ok('compute_scores');
    const first = await ok<{ evaluatedNow: boolean; asOf: string }>('list_segments', { limit: 1 });
    expect(first.evaluatedNow).toBe(true);
    const second = await ok<{ evaluatedNow: boolean }>('list_segments', { limit: 1 });
    expect(second.evaluatedNow).toBe(false);
    await ok('compute_scores', { asOf: '2024-05-01' });
    const third = await ok<{ evaluatedNow: boolean; asOf: string }>('list_segments', { limit: 1 });
    expect(third.evaluatedNow).toBe(true);
    expect(third.asOf).toBe('2024-05-01');
    await ok('compute_scores');
  });

  test('list pages with a cursor', async () => {
    const first = await ok<Listed>('list_segments', { limit: 5 });
    expect(first.segments).toHaveLength(5);
    const second = await ok<Listed>('list_segments', { limit: 5, cursor: first.nextCursor });
    expect(second.segments[0].name).not.toBe(first.segments[0].name);
    expect(second.total).toBe(first.total);
  });

  test('rule with several errors returns all', async () => {
    const result = await call('define_segment', {
      rule: `segment "Broken" {
  conditions {
    events.sesion_count(last_7_days) >= 2
    AND user.plann = "pro"
    AND events.active_days(last_9999_days) > 1
  }
  refresh: hourly
}`,
    });
    expect(result.isError).toBe(true);
    const message = text(result);
    expect(message).toMatch(/^The rule has 4 errors:/);
    expect(message).toContain('define_segment:3:12: Unknown function or event "events.sesion_count"');
    expect(message).toContain('Did you mean');
    expect(message).toContain('define_segment:4:14: Unknown attribute "user.plann"');
    expect(message).toContain('    AND user.plann = "pro"\n             ^^^^^');
    expect(message).toContain('define_segment:5:28: Window last_9999_days is out of range');
    expect(message).toContain('define_segment:7:12: Unknown refresh cadence "hourly"');
    const listed = await ok<Listed>('list_segments', { limit: 200 });
    expect(listed.segments.some((segment) => segment.name === 'Broken')).toBe(false);
  });

  test('syntax error has line, column and caret', async () => {
    const result = await call('define_segment', { rule: 'segment "X" {\n  conditions { user.plan = }\n}' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/^The rule has 1 error:\n\ndefine_segment:2:28: Expected .*\n  conditions \{ user\.plan = \}\n {27}\^/);
  });

  test('built-in name cannot be defined', async () => {
    const result = await call('define_segment', { rule: 'segment "Champions" { conditions { user.plan = "pro" } }' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/taken by the built-in segment "Champions"/);
  });

  test('built-in cannot be deleted', async () => {
    const result = await call('delete_segment', { name: 'Power Users' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/"Power Users" is a built-in segment \(methodology\) and cannot be deleted/);
  });

  test('unknown saved segment cannot be deleted', async () => {
    const result = await call('delete_segment', { name: 'Nope' });
    expect(result.isError).toBe(true);
    expect(text(result)).toBe('No saved segment is named "Nope". Call list_segments to see the saved ones.');
  });

  test('two segments in one rule are rejected', async () => {
    const result = await call('define_segment', {
      rule: 'segment "A1" { conditions { user.plan = "pro" } }\nsegment "B1" { conditions { user.plan = "free" } }',
    });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/defines 2 segments; define_segment takes exactly one/);
  });

  test('overlaps name pairs', async () => {
    const report = await ok<{ total: number; overlaps: { first: string; second: string; users: number }[] }>('segment_overlaps', {
      limit: 10,
    });
    expect(report.total).toBeGreaterThan(0);
    expect(report.overlaps[0].users).toBeGreaterThan(0);
  });
});

describe('history tools over MCP', () => {
  test('history works without an explicit backfill', async () => {
    const history = await ok<{ backfilledNow: boolean; periods: { periodKey: string }[]; series: { segment: string; sizes: number[] }[] }>(
      'segment_history',
    );
    expect(history.backfilledNow).toBe(true);
    expect(history.periods[0].periodKey).toBe('2024-W01');
    expect(history.series.map((series) => series.segment)).toEqual(['inactive', 'dormant', 'at_risk', 'power', 'regular', 'new', 'casual']);
    const again = await ok<{ backfilledNow: boolean; evaluations: { segment: string; asOf: string }[] }>('segment_history');
    expect(again.backfilledNow).toBe(false);
    // Each as-of day at which the rule segments were evaluated is one point of their history, empty ones included.
    const points = (segment: string) => again.evaluations.filter((point) => point.segment === segment).map((point) => point.asOf);
    expect(points('Plan: Free')).toEqual(['2024-05-01', '2024-05-19']);
    expect(points('Champions')).toEqual(['2024-05-01', '2024-05-19']);
  });

  test('transitions default to the last two weeks', async () => {
    const result = await ok<{ from: { periodKey: string }; to: { periodKey: string }; cells: { rowShare: number }[] }>('segment_transitions');
    expect(result.from.periodKey).toBe('2024-W19');
    expect(result.to.periodKey).toBe('2024-W20');
    expect(result.cells.every((cell) => cell.rowShare > 0 && cell.rowShare <= 1)).toBe(true);
  });

  test('backfill sends progress', async () => {
    const messages: string[] = [];
    const result = (await client.callTool({ name: 'backfill_history', arguments: { period: 'month' } }, undefined, {
      onprogress: (progress) => messages.push(progress.message ?? ''),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ period: 'month', periods: 5, firstPeriod: '2024-01', lastPeriod: '2024-05' });
    expect(messages[0]).toBe('building event facts and sessions');
    expect(messages.at(-1)).toMatch(/^stored \d+ snapshot rows over 5 months$/);
  });

  test('bad week start is rejected', async () => {
    const result = await call('backfill_history', { weekStart: 'funday' });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/weekStart/);
  });
});
