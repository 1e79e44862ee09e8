import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../src/roots.js';
import { eventually, rootsClient, tempFolder, textOf, writeFile } from './helpers/confinement.js';
import { openConfinement } from './helpers/session.js';

let base: string;
let inside: string;
let outside: string;

beforeAll(() => {
  base = tempFolder('confinement-mcp-test-');
  inside = path.join(base, 'data');
  outside = path.join(base, 'secret');
  for (const folder of [inside, outside]) mkdirSync(folder);
  writeFile(inside, 'events.csv');
  writeFile(outside, 'secret.csv');
  symlinkSync(path.join(outside, 'secret.csv'), path.join(inside, 'link.csv'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('load_data confinement over MCP', () => {
  async function connect(workspacePath: string, roots: string[], clientRoots: string[]) {
    const confinement = await openConfinement({ workspacePath, roots, outputDir: path.join(tempFolder('confinement-out-'), 'out') });
    const session = openSession(confinement);
    const { client, setRoots } = rootsClient(clientRoots);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await session.server.connect(serverSide);
    await client.connect(clientSide);
    const load = (file: string) =>
      client.callTool({ name: 'load_data', arguments: { table: 'events', path: file } }) as Promise<CallToolResult>;
    const close = async () => {
      await client.close();
      await session.close();
      confinement.ws.close();
    };
    return { load, setRoots, close, confinement };
  }

  it('rejects a file outside the roots, naming it and the folders', async () => {
    const { load, close } = await connect(':memory:', [inside], []);
    try {
      const result = await load(path.join(outside, 'secret.csv'));
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(path.join(outside, 'secret.csv'));
      expect(textOf(result)).toContain(inside);
      expect((await load(path.join(inside, 'link.csv'))).isError).toBe(true);
      expect((await load('/dev/zero')).isError).toBe(true);
      expect((await load(path.join(inside, 'events.csv'))).isError).toBeFalsy();
    } finally {
      await close();
    }
  });

  it('rejects a glob matching a symlink that leads outside', async () => {
    const { load, close } = await connect(':memory:', [inside], []);
    try {
      const result = await load(path.join(inside, '*.csv'));
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/link\.csv/);
    } finally {
      await close();
    }
  });

  it('grants the client roots, reopening a file workspace', async () => {
    const workspacePath = path.join(tempFolder('confinement-roots-'), 'ws.duckdb');
    const { load, setRoots, close, confinement } = await connect(workspacePath, [inside], [outside]);
    try {
      const secret = path.join(outside, 'secret.csv');
      const loaded = await eventually(async () => {
        const result = await load(secret);
        if (result.isError) throw new Error(textOf(result));
        return result;
      });
      expect(loaded.structuredContent?.rowsLoaded).toBe(2);
      expect(confinement.ws.allowedDirectories).toContain(outside);

      await setRoots([]);
      await eventually(async () => {
        const result = await load(secret);
        if (!result.isError) throw new Error('still allowed');
      });
    } finally {
      await close();
    }
  });

  it('explains client roots an in-memory workspace cannot add', async () => {
    const { load, close } = await connect(':memory:', [inside], [outside]);
    try {
      const message = await eventually(async () => {
        const result = await load(path.join(outside, 'secret.csv'));
        const text = textOf(result);
        if (!/were not added/.test(text)) throw new Error(text);
        return text;
      });
      expect(message).toContain(`The client's roots ${outside} were not added`);
      expect(message).toMatch(/workspace is in memory/);
    } finally {
      await close();
    }
  });
});
