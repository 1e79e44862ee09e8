import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from '../../src/server.js';
import { PathPolicy, Workspace } from '../../src/workspace/index.js';

export const FIXTURE_DIR = path.resolve('fixtures/saas');

/** A createServer instance on a fresh workspace, driven by a real SDK Client over a linked in-memory pair. */
export interface McpHarness {
  readonly client: Client;
  readonly ws: Workspace;
  /** Temporary folder that holds the output folder and any files a test writes. */
  readonly dir: string;
  readonly outputDir: string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export async function startHarness(options: { roots?: string[]; workspacePath?: string } = {}): Promise<McpHarness> {
  const dir = mkdtempSync(path.join(tmpdir(), 'segmentation-mcp-test-'));
  const ws = await Workspace.open({ path: options.workspacePath ?? ':memory:' });
  const outputDir = path.join(dir, 'output');
  const server = createServer({ ws, paths: new PathPolicy(options.roots ?? [FIXTURE_DIR, dir]), outputDir });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'segmentation-test', version: '1.0.0' });
  await client.connect(clientTransport);
  return {
    client,
    ws,
    dir,
    outputDir,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
      ws.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content
    .filter((block) => block.type === 'text')
    .map((block) => (block.type === 'text' ? block.text : ''))
    .join('\n');
}

/** Loads the fixture users and events; optionally scores them. */
export async function loadFixture(harness: McpHarness, score = true): Promise<void> {
  for (const [table, file] of [
    ['users', 'users.csv'],
    ['events', 'events.csv.gz'],
    ['billing', 'billing.csv'],
    ['support', 'support.csv'],
    ['nps', 'nps.csv'],
  ]) {
    const result = await harness.call('load_data', { table, path: path.join(FIXTURE_DIR, file) });
    if (result.isError) throw new Error(`load_data ${table} failed: ${textOf(result)}`);
  }
  if (score) {
    const result = await harness.call('compute_scores');
    if (result.isError) throw new Error(`compute_scores failed: ${textOf(result)}`);
  }
}
