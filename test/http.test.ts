import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from '../src/http.js';
import { openSession, type Confinement } from '../src/roots.js';
import { eventually, rootsClient, tempFolder, textOf, writeFile } from './helpers/confinement.js';
import { openConfinement } from './helpers/session.js';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-http-test', version: '1.0.0' } },
};

let base: string;
let dataFolder: string;
let confinement: Confinement;
const servers: HttpServerHandle[] = [];

beforeAll(async () => {
  base = tempFolder('http-test-');
  dataFolder = path.join(base, 'data');
  mkdirSync(dataFolder);
  writeFile(dataFolder, 'events.csv');
  writeFile(path.join(base, 'client-root'), 'events.csv');
  confinement = await openConfinement({
    workspacePath: path.join(base, 'ws.duckdb'),
    roots: [dataFolder],
    outputDir: path.join(base, 'segmentation-output'),
  });
});

afterAll(async () => {
  for (const server of servers) await server.close();
  confinement.ws.close();
  rmSync(base, { recursive: true, force: true });
});

async function start(options: Partial<HttpServerOptions> = {}): Promise<HttpServerHandle> {
  const server = await startHttpServer({ port: 0, openSession: () => openSession(confinement), ...options });
  servers.push(server);
  return server;
}

async function connect(url: string, headers: Record<string, string> = {}, client?: Client): Promise<Client> {
  const connected = client ?? new Client({ name: 'http-test', version: '1.0.0' });
  await connected.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return connected;
}

/** Sends one raw request with node:http, which (unlike fetch) lets a test set any Host header. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

describe('startHttpServer', () => {
  it('binds 127.0.0.1 on a free port', async () => {
    const server = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('initializes, lists tools and calls describe_data', async () => {
    const server = await start();
    const client = await connect(server.url);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('describe_data');
      const result = (await client.callTool({ name: 'describe_data', arguments: {} })) as CallToolResult;
      expect(result.isError).toBeFalsy();
      expect(Array.isArray(result.structuredContent?.tables)).toBe(true);
      const load = (await client.callTool({
        name: 'load_data',
        arguments: { table: 'events', path: path.join(dataFolder, 'events.csv') },
      })) as CallToolResult;
      expect(load.isError, textOf(load)).toBeFalsy();
      expect(load.structuredContent?.rowsLoaded).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('rejects a foreign Origin with 403', async () => {
    const server = await start();
    const response = await send(server.url, { headers: { Origin: 'http://evil.example' }, body: INITIALIZE });
    expect(response.status).toBe(403);
    expect(response.body).toMatch(/Origin http:\/\/evil\.example is not allowed/);
  });

  it('accepts the loopback Origin and a configured one', async () => {
    const server = await start({ allowedOrigins: ['https://app.example.com'] });
    const local = await send(server.url, { headers: { Origin: `http://localhost:${server.port}` }, body: INITIALIZE });
    expect(local.status).toBe(200);
    const configured = await send(server.url, { headers: { Origin: 'https://app.example.com' }, body: INITIALIZE });
    expect(configured.status).toBe(200);
    const otherPort = await send(server.url, { headers: { Origin: `http://localhost:${server.port + 1}` }, body: INITIALIZE });
    expect(otherPort.status).toBe(403);
  });

  it('rejects a foreign Host with 403', async () => {
    const server = await start();
    const response = await send(server.url, { headers: { Host: `evil.example:${server.port}` }, body: INITIALIZE });
    expect(response.status).toBe(403);
    expect(response.body).toMatch(/Host evil\.example:\d+ is not allowed/);
    const wrongPort = await send(server.url, { headers: { Host: 'localhost:1' }, body: INITIALIZE });
    expect(wrongPort.status).toBe(403);
  });

  it('accepts a configured Host', async () => {
    const server = await start({ allowedHosts: ['mcp.internal'] });
    const response = await send(server.url, { headers: { Host: `mcp.internal:${server.port}` }, body: INITIALIZE });
    expect(response.status).toBe(200);
  });

  it('requires the bearer token when one is set', async () => {
    const server = await start({ token: 'correct-horse' });
    const missing = await send(server.url, { body: INITIALIZE });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="segmentation-mcp"');
    const wrong = await send(server.url, { headers: { Authorization: 'Bearer wrong' }, body: INITIALIZE });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/error="invalid_token"/);

    await expect(connect(server.url)).rejects.toThrow();
    const client = await connect(server.url, { Authorization: 'Bearer correct-horse' });
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('rejects an unknown session with 404', async () => {
    const server = await start();
    const response = await send(server.url, {
      headers: { 'Mcp-Session-Id': 'no-such-session' },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    });
    expect(response.status).toBe(404);
  });

  it('rejects a request without a session that is not initialize', async () => {
    const server = await start();
    const response = await send(server.url, { body: { jsonrpc: '2.0', id: 2, method: 'tools/list' } });
    expect(response.status).toBe(400);
  });

  it('rejects invalid JSON and other paths', async () => {
    const server = await start();
    const invalid = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(server.url, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('{not json');
    });
    expect(invalid).toBe(400);
    const other = await send(server.url.replace('/mcp', '/other'), { body: INITIALIZE });
    expect(other.status).toBe(404);
  });

  it('keeps two sessions independent', async () => {
    const server = await start();
    const clientRoot = path.join(base, 'client-root');
    const first = rootsClient([clientRoot]);
    const firstClient = await connect(server.url, {}, first.client);
    const secondClient = await connect(server.url);
    try {
      const firstId = (firstClient.transport as StreamableHTTPClientTransport).sessionId;
      const secondId = (secondClient.transport as StreamableHTTPClientTransport).sessionId;
      expect(firstId).toBeDefined();
      expect(firstId).not.toBe(secondId);
      expect(server.sessionCount()).toBe(2);

      // Only the first session's client declared the folder as a root.
      const file = path.join(clientRoot, 'events.csv');
      await eventually(async () => {
        const result = (await firstClient.callTool({ name: 'load_data', arguments: { table: 'events', path: file } })) as CallToolResult;
        if (result.isError) throw new Error(textOf(result));
      });
      const second = (await secondClient.callTool({ name: 'load_data', arguments: { table: 'events', path: file } })) as CallToolResult;
      expect(second.isError).toBe(true);
      expect(textOf(second)).toMatch(/outside the allowed folders/);

      await firstClient.close();
      expect((await secondClient.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await firstClient.close();
      await secondClient.close();
    }
  });

  it('ends a session on DELETE', async () => {
    const server = await start();
    const client = await connect(server.url);
    const transport = client.transport as StreamableHTTPClientTransport;
    const sessionId = transport.sessionId!;
    const before = server.sessionCount();
    await transport.terminateSession();
    expect(server.sessionCount()).toBe(before - 1);
    const after = await send(server.url, {
      headers: { 'Mcp-Session-Id': sessionId, 'Mcp-Protocol-Version': '2025-06-18' },
      body: { jsonrpc: '2.0', id: 3, method: 'tools/list' },
    });
    expect(after.status).toBe(404);
    await client.close();
  });
});

describe('built CLI over HTTP', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('serves tools on the printed port', async () => {
    const cli = path.resolve('dist/src/cli.js');
    child = spawn(process.execPath, [cli, 'serve', '--http', '--port', '0', '--workspace', ':memory:', '--allow', dataFolder], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, SEGMENTATION_MCP_LOG: 'warn' },
    });
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed; stderr: ${stderr}`)), 30_000);
      child!.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child!.on('exit', (code) => reject(new Error(`the server exited with ${code}; stderr: ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const client = await connect(url);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('describe_data');
      const result = (await client.callTool({
        name: 'load_data',
        arguments: { table: 'events', path: '/etc/passwd' },
      })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`allowed folders (${dataFolder})`);
    } finally {
      await client.close();
    }
  });
});
