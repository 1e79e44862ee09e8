import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer } from '../src/server.js';
import { PathPolicy, Workspace } from '../src/workspace/index.js';

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'fixtures/saas');
const CLI = path.join(ROOT, 'dist/src/cli.js');

interface CsvRow {
  user_id: string;
  engagement_score: string;
  engagement_tier: string;
  behavioral_segment: string;
  at_risk: string;
  at_risk_signals: string;
  churn_risk_score: string;
  churn_risk_tier: string;
  rfm_code: string;
}

/** Splits one CSV line, honouring double quotes (DuckDB quotes empty strings and values with commas). */
function splitCsvLine(line: string): string[] {
  const values: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted && char === '"' && line[i + 1] === '"') {
      current += '"';
      i++;
    } else if (char === '"') {
      quoted = !quoted;
    } else if (char === ',' && !quoted) {
      values.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  values.push(current);
  return values;
}

function parseCsv(text: string): CsvRow[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = splitCsvLine(header);
  return lines.map((line) => Object.fromEntries(splitCsvLine(line).map((value, i) => [names[i], value])) as unknown as CsvRow);
}

let ws: Workspace;
let client: Client;
let csv: Map<string, CsvRow>;

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result;
}

beforeAll(async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'agreement-'));
  execFileSync(
    process.execPath,
    [
      CLI,
      'analyze',
      '--events', path.join(FIXTURE, 'events.csv.gz'),
      '--users', path.join(FIXTURE, 'users.csv'),
      '--billing', path.join(FIXTURE, 'billing.csv'),
      '--support', path.join(FIXTURE, 'support.csv'),
      '--nps', path.join(FIXTURE, 'nps.csv'),
      '--out', out,
    ],
    { env: { ...process.env, SEGMENTATION_MCP_LOG: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  csv = new Map(parseCsv(readFileSync(path.join(out, 'users.csv'), 'utf8')).map((row) => [row.user_id, row]));

  ws = await Workspace.open({ path: ':memory:' });
  const server = createServer({ ws, paths: new PathPolicy([FIXTURE]), outputDir: mkdtempSync(path.join(tmpdir(), 'mcp-out-')) });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  client = new Client({ name: 'agreement-test', version: '1.0.0' });
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  for (const table of ['users', 'events', 'billing', 'support', 'nps']) {
    await call('load_data', { table, path: path.join(FIXTURE, table === 'events' ? 'events.csv.gz' : `${table}.csv`) });
  }
  await call('compute_scores');
});

afterAll(async () => {
  await client.close();
  ws.close();
});

test('users.csv has one row per user', async () => {
  expect(csv.size).toBe(2000);
  const structured = (await call('compute_scores')).structuredContent as { users: number };
  expect(structured.users).toBe(csv.size);
});

test('find_users and users.csv agree for every user', async () => {
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = (await call('find_users', { orderBy: 'user_id', limit: 500, ...(cursor ? { cursor } : {}) }))
      .structuredContent as {
      total: number;
      users: {
        userId: string;
        engagementScore: number;
        engagementTier: string;
        behavioralSegment: string;
        atRisk: boolean;
        atRiskSignals: string[];
        churnRiskScore: number;
        churnRiskTier: string;
        rfmCode: string;
      }[];
      nextCursor?: string;
    };
    expect(page.total).toBe(2000);
    for (const user of page.users) {
      const row = csv.get(user.userId);
      expect(row, user.userId).toBeDefined();
      expect.soft(String(user.engagementScore), user.userId).toBe(row?.engagement_score);
      expect.soft(user.engagementTier).toBe(row?.engagement_tier);
      expect.soft(user.behavioralSegment).toBe(row?.behavioral_segment);
      expect.soft(String(user.atRisk)).toBe(row?.at_risk);
      expect.soft(user.atRiskSignals.join(';')).toBe(row?.at_risk_signals);
      expect.soft(String(user.churnRiskScore)).toBe(row?.churn_risk_score);
      expect.soft(user.churnRiskTier).toBe(row?.churn_risk_tier);
      expect.soft(user.rfmCode).toBe(row?.rfm_code);
      seen.add(user.userId);
    }
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen.size).toBe(2000);
});

test('at-risk list is the at-risk rows of users.csv', async () => {
  const listed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await call('find_users', { atRisk: true, limit: 500, ...(cursor ? { cursor } : {}) })).structuredContent as {
      total: number;
      users: { userId: string; reasons: string[] }[];
      nextCursor?: string;
    };
    for (const user of page.users) {
      expect(user.reasons.some((reason) => reason.includes('at-risk signals')), user.userId).toBe(true);
      listed.push(user.userId);
    }
    cursor = page.nextCursor;
  } while (cursor);
  const expected = [...csv.values()].filter((row) => row.at_risk === 'true').map((row) => row.user_id).sort();
  expect(expected.length).toBeGreaterThan(0);
  expect(listed.sort()).toEqual(expected);
});

test('strategy document carries the computed sizes', async () => {
  const rendered = (await call('render_strategy')).structuredContent as { markdown: string; segments: { id: string; size: number }[] };
  const power = [...csv.values()].filter((row) => row.behavioral_segment === 'power').length;
  expect(rendered.segments.find((s) => s.id === 'power')?.size).toBe(power);
  expect(rendered.markdown).toContain('# Segmentation Strategy');
  expect(rendered.markdown).toContain(`Size: ${power} users`);
});
