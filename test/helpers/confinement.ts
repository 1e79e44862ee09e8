import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { pathToFileURL } from 'node:url';

export const EVENTS_CSV = 'user_id,event,timestamp\nu1,login,2024-03-01T10:00:00Z\nu2,view,2024-03-02T11:30:00Z\n';

/** Creates a temporary folder and returns its symlink-free path, so it compares equal to the paths the server reports. */
export function tempFolder(prefix: string): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
}

/** Writes `content` to `folder/name`, creating sub-folders, and returns the path. */
export function writeFile(folder: string, name: string, content: string = EVENTS_CSV): string {
  const file = path.join(folder, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** Creates a client that declares the roots capability and returns `folders` from roots/list; `setRoots` changes them. */
export function rootsClient(folders: string[]): { client: Client; setRoots(next: string[]): Promise<void> } {
  let current = folders;
  const client = new Client({ name: 'confinement-test', version: '1.0.0' }, { capabilities: { roots: { listChanged: true } } });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: current.map((folder) => ({ uri: pathToFileURL(folder).href, name: path.basename(folder) })),
  }));
  return {
    client,
    setRoots: async (next) => {
      current = next;
      await client.sendRootsListChanged();
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

/** Calls `check` until it stops throwing, for state the server updates after a notification. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
