import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURE_DIR, textOf } from './helpers/mcp.js';

// `npm test` builds first; the server under test is the compiled bin.
const CLI = path.resolve('dist/src/cli.js');

let dir: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first.`);
  dir = mkdtempSync(path.join(tmpdir(), 'segmentation-stdio-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('stdio server', () => {
  test('stdout carries only JSON-RPC messages', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--workspace', path.join(dir, 'raw.duckdb'), '--allow', FIXTURE_DIR], {
      env: { ...process.env, SEGMENTATION_MCP_LOG: 'debug' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const responses = new Map<number, Record<string, unknown>>();
    const waiting = new Map<number, () => void>();
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const message = JSON.parse(line) as { id?: number };
        if (typeof message.id === 'number') {
          responses.set(message.id, message);
          waiting.get(message.id)?.();
        }
      } catch {
        // a line that is not JSON fails the check below
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));

    let nextId = 1;
    const request = (method: string, params: Record<string, unknown> = {}) => {
      const id = nextId++;
      const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      return answered.then(() => responses.get(id)!);
    };

    const init = await request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } });
    expect(init.result).toBeDefined();
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    await request('tools/list');
    await request('tools/call', { name: 'load_data', arguments: { table: 'events', path: '/etc/passwd' } });
    await request('tools/call', { name: 'load_data', arguments: { table: 'users', path: path.join(FIXTURE_DIR, 'users.csv') }, _meta: { progressToken: 7 } });
    await request('tools/call', { name: 'find_users', arguments: {} });
    await request('resources/read', { uri: 'segmentation://methodology' });
    await request('no/such/method');
    child.stdin.end();
    await new Promise((resolve) => child.on('exit', resolve));

    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) {
      const message = JSON.parse(line) as { jsonrpc?: string };
      expect(message.jsonrpc, line.slice(0, 200)).toBe('2.0');
    }
    expect(lines.some((line) => line.includes('notifications/progress'))).toBe(true);
    expect(stderr).toContain('tool call');
  });

  test('full flow over a real client', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve', '--workspace', path.join(dir, 'flow.duckdb'), '--allow', FIXTURE_DIR],
      env: { ...process.env, SEGMENTATION_MCP_LOG: 'info' } as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'segmentation-e2e', version: '1.0.0' });
    const transportErrors: Error[] = [];
    client.onerror = (error) => transportErrors.push(error);
    await client.connect(transport);
    const call = async (name: string, args: Record<string, unknown> = {}) => {
      const result = (await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 })) as CallToolResult;
      expect(result.isError, `${name}: ${textOf(result)}`).toBeFalsy();
      return result;
    };
    try {
      const tools = (await client.listTools()).tools.map((tool) => tool.name);
      expect(tools).toEqual(expect.arrayContaining(['load_data', 'compute_scores', 'find_users', 'export_segment', 'render_strategy']));

      await call('save_diagnostic_answers', { answers: { decisions: 'Save accounts before renewal' } });
      for (const [table, file] of [['users', 'users.csv'], ['events', 'events.csv.gz'], ['billing', 'billing.csv'], ['support', 'support.csv']]) {
        await call('load_data', { table, path: path.join(FIXTURE_DIR, file) });
      }
      const scored = await call('compute_scores');
      expect((scored.structuredContent as { users: number }).users).toBeGreaterThan(0);
      const atRisk = await call('find_users', { atRisk: true, limit: 5 });
      const first = (atRisk.structuredContent as { users: { userId: string }[] }).users[0];
      expect(first).toBeDefined();
      await call('explain_user', { userId: first.userId });
      const exported = await call('export_segment', { atRisk: true });
      expect(existsSync((exported.structuredContent as { path: string }).path)).toBe(true);
      const strategy = await call('render_strategy');
      expect((strategy.structuredContent as { markdown: string }).markdown).toContain('Save accounts before renewal');

      const schema = await client.readResource({ uri: 'segmentation://workspace/schema' });
      expect((schema.contents[0] as { text: string }).text).toContain('user_scores');
      const prompt = await client.getPrompt({ name: 'find_at_risk_users', arguments: {} });
      expect(prompt.messages.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    expect(transportErrors).toEqual([]);
  });
});
