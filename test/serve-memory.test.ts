import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { expect, test } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const FIXTURE = path.join(ROOT, 'fixtures/saas');

test('in-memory workspace leaves no files after stop', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(ROOT, 'dist/src/cli.js'), 'serve', '--workspace', ':memory:', '--allow', FIXTURE],
    env: { ...process.env, SEGMENTATION_MCP_LOG: 'silent' } as Record<string, string>,
    stderr: 'ignore',
  });
  const client = new Client({ name: 'memory-test', version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid;
  const outputDir = path.join(tmpdir(), `segmentation-mcp-${pid}`);

  await client.callTool({ name: 'load_data', arguments: { table: 'users', path: path.join(FIXTURE, 'users.csv') } });
  await client.callTool({ name: 'load_data', arguments: { table: 'events', path: path.join(FIXTURE, 'events.csv.gz') } });
  await client.callTool({ name: 'compute_scores', arguments: {} });
  const rendered = await client.callTool({ name: 'render_strategy', arguments: {} });
  expect(rendered.isError).toBeFalsy();
  expect(existsSync(path.join(outputDir, 'strategy.md'))).toBe(true);

  await client.close();
  // The server removes its folder while shutting down; give the process a moment to exit.
  for (let i = 0; i < 50 && existsSync(outputDir); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(existsSync(outputDir)).toBe(false);
});
