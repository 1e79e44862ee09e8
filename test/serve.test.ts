import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from '../src/serve.js';
import { UserInputError } from '../src/workspace/index.js';
import { eventually, rootsClient, tempFolder, textOf, writeFile } from './helpers/confinement.js';

let base: string;
let dataFolder: string;
let clientRoot: string;

beforeAll(() => {
  base = tempFolder('serve-test-');
  dataFolder = path.join(base, 'data');
  clientRoot = path.join(base, 'client-root');
  mkdirSync(dataFolder);
  writeFile(dataFolder, 'events.csv');
  writeFile(clientRoot, 'events.csv');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('parseServeArgs', () => {
  it('defaults to stdio, the working directory and a memory limit', () => {
    const config = parseServeArgs(['--workspace', ':memory:'], {});
    expect(config.http).toBeUndefined();
    expect(config.roots).toEqual([process.cwd()]);
    expect(config.memoryLimit).toMatch(/^\d+MiB$/);
    expect(config.timeoutSeconds).toBe(600);
  });

  it('reads the HTTP options and the token variable', () => {
    const config = parseServeArgs(['--http', '--port', '0', '--allowed-host', 'mcp.internal'], { SEGMENTATION_MCP_TOKEN: 's3cret' });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 0, token: 's3cret', allowedHosts: ['mcp.internal'], allowedOrigins: [] });
  });

  it.each([
    [['--http', '--port', '70000'], /Invalid --port "70000"/],
    [['--http', '--port', 'abc'], /Invalid --port "abc"/],
    [['--memory-limit', 'lots'], /Invalid --memory-limit "lots"/],
    [['--timeout=-5'], /Invalid --timeout "-5"/],
    [['--timeout', 'soon'], /Invalid --timeout "soon"/],
    [['--port', '3000'], /--port applies only to HTTP/],
    [['--token', 'x'], /--token applies only to HTTP/],
    [['--http', '--token', ' '], /bearer token is empty/],
    [['--allow', '/no/such/folder'], /--allow does not exist: \/no\/such\/folder/],
  ])('rejects %j', (args, message) => {
    let error: unknown;
    try {
      parseServeArgs(args, {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a file given as --allow', () => {
    expect(() => parseServeArgs(['--allow', path.join(dataFolder, 'events.csv')], {})).toThrow(/is a file/);
  });
});

describe('built CLI over stdio', () => {
  const cli = path.resolve('dist/src/cli.js');

  it('exits with 2 on a bad serve option', () => {
    const result = spawnSync(process.execPath, [cli, 'serve', '--http', '--port', 'x'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Invalid --port "x"/);
  });

  it('confines reads and grants client roots', async () => {
    const { client } = rootsClient([clientRoot]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cli, 'serve', '--workspace', path.join(base, 'ws.duckdb'), '--allow', dataFolder],
      env: { ...(process.env as Record<string, string>), SEGMENTATION_MCP_LOG: 'warn' },
      stderr: 'ignore',
    });
    await client.connect(transport);
    try {
      const load = async (file: string) =>
        (await client.callTool({ name: 'load_data', arguments: { table: 'events', path: file } })) as CallToolResult;
      expect((await load(path.join(dataFolder, 'events.csv'))).isError).toBeFalsy();
      const denied = await load('/etc/passwd');
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toContain('/etc/passwd is outside the allowed folders');
      await eventually(async () => {
        const result = await load(path.join(clientRoot, 'events.csv'));
        if (result.isError) throw new Error(textOf(result));
      });
    } finally {
      await client.close();
    }
  });
});
