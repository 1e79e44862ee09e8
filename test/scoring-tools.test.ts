import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createServer } from '../src/server.js';
import { PathPolicy, type Workspace } from '../src/workspace/index.js';
import { createUsers, dayRange, insertBilling, insertDailySessions, openTestWorkspace } from './helpers/workspace.js';

const CDNOW_DIR = '/work/shared/datasets/cdnow';
let ws: Workspace;
let client: Client;

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

beforeAll(async () => {
  ws = await openTestWorkspace();
  await createUsers(ws, [{ user: 'u1', signup: '2024-01-01 09:00:00', plan: 'pro' }]);
  await insertDailySessions(ws, 'u1', dayRange('2024-01-01', '2024-01-31'), [
    { at: '10:00', event: 'project_created' },
    { at: '10:20', event: 'task_added' },
  ]);
  await insertBilling(ws, [{ user: 'u1', ts: '2024-01-05 10:00:00', kind: 'payment', amount: 30 }]);
  const server = createServer({ ws, paths: new PathPolicy([CDNOW_DIR]), outputDir: mkdtempSync(path.join(tmpdir(), 'scoring-tools-')) });
  client = new Client({ name: 'scoring-tools-test', version: '1.0.0' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
});

afterAll(async () => {
  await client.close();
  ws.close();
});

test('describe_data before scoring', async () => {
  const result = await call('describe_data');
  expect(result.isError).toBeFalsy();
  const models = (result.structuredContent as { models: Record<string, { missingComponents: string[] }> }).models;
  expect(models.churn_risk.missingComponents).toEqual(['support']);
  expect(text(result)).toContain('No support file is loaded');
});

test('configure_scoring shows and validates', async () => {
  const current = await call('configure_scoring');
  expect(current.structuredContent).toMatchObject({ saved: false });
  const bad = await call('configure_scoring', { changes: { milestones: [{ event: 'task_addd', points: 100 }] } });
  expect(bad.isError).toBe(true);
  expect(text(bad)).toContain('Did you mean "task_added"?');
  const good = await call('configure_scoring', { changes: { productCadence: 'daily' } });
  expect(text(good)).toContain('Run compute_scores again');
});

test('explain_user covers every model', async () => {
  expect((await call('compute_scores')).isError).toBeFalsy();
  const result = await call('explain_user', { userId: 'u1' });
  const explanation = (result.structuredContent as { explanation: { scores: { model: string }[]; lifecycle: { stage: string } } })
    .explanation;
  expect(explanation.scores.map((score) => score.model)).toEqual(['engagement', 'activation', 'expansion', 'churn_risk']);
  expect(explanation.lifecycle.stage).toBeTypeOf('string');
});

test('rfm_quantiles on billing and CDNOW', async () => {
  const billing = await call('rfm_quantiles');
  expect(billing.structuredContent).toMatchObject({ customers: 1, transactions: 1 });
  const cdnow = await call('rfm_quantiles', {
    file: path.join(CDNOW_DIR, 'CDNOW_master.txt'),
    format: 'whitespace',
    userColumn: 'customer_id',
    dateColumn: 'date',
    amountColumn: 'dollar_value',
    dateFormat: '%Y%m%d',
  });
  expect(cdnow.structuredContent).toMatchObject({ customers: 23570, transactions: 69659 });
});

test('rfm_quantiles outside allowed folders', async () => {
  const result = await call('rfm_quantiles', { file: '/etc/passwd' });
  expect(result.isError).toBe(true);
});

test('rfm_quantiles wrong column', async () => {
  const result = await call('rfm_quantiles', {
    file: path.join(CDNOW_DIR, 'CDNOW_master.txt'),
    format: 'whitespace',
    userColumn: 'customer',
  });
  expect(result.isError).toBe(true);
  expect(text(result)).toContain(
    'The user column "customer" is not in /work/shared/datasets/cdnow/CDNOW_master.txt. Columns found: ',
  );
});

test('backtest_score restores scores', async () => {
  const result = await call('backtest_score', { asOf: '2024-01-20', observeUntil: '2024-01-31' });
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ users: 1, churned: 0, auc: null });
  const run = await ws.getMeta<{ asOf: string }>('scoring');
  expect(run?.asOf).toBe('2024-01-31');
});
