import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathPolicy, UserInputError, Workspace, quoteLiteral } from '../src/workspace/index.js';
import { tempFolder, writeFile } from './helpers/confinement.js';

let base: string;
let inside: string;
let outside: string;
let sibling: string;

beforeAll(() => {
  base = tempFolder('confinement-test-');
  inside = path.join(base, 'data');
  outside = path.join(base, 'secret');
  // Shares the prefix "data" with the allowed folder, so a plain string-prefix check would admit it.
  sibling = path.join(base, 'data-other');
  for (const folder of [inside, outside, sibling]) mkdirSync(folder);
  writeFile(inside, 'events.csv');
  writeFile(inside, 'nested/more.csv');
  writeFile(outside, 'secret.csv');
  writeFile(sibling, 'events.csv');
  symlinkSync(path.join(outside, 'secret.csv'), path.join(inside, 'link.csv'));
  symlinkSync(outside, path.join(inside, 'linked-folder'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

function denied(policy: PathPolicy, input: string): string {
  try {
    policy.resolveReadable(input);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return (error as Error).message;
  }
  throw new Error(`${input} was accepted`);
}

describe('PathPolicy', () => {
  it('accepts a file inside a root', () => {
    const policy = new PathPolicy([inside]);
    expect(policy.resolveReadable(path.join(inside, 'events.csv'))).toBe(path.join(inside, 'events.csv'));
    expect(policy.resolveReadable(path.join(inside, 'nested', 'more.csv'))).toBe(path.join(inside, 'nested', 'more.csv'));
  });

  it('resolves relative paths against the working directory', () => {
    const policy = new PathPolicy([inside]);
    const relative = path.relative(process.cwd(), path.join(inside, 'events.csv'));
    expect(policy.resolveReadable(relative)).toBe(path.join(inside, 'events.csv'));
  });

  it('rejects a .. escape and names the allowed folders', () => {
    const message = denied(new PathPolicy([inside]), path.join(inside, '..', 'secret', 'secret.csv'));
    expect(message).toContain(path.join(outside, 'secret.csv'));
    expect(message).toContain(`allowed folders (${inside})`);
  });

  it('rejects a sibling folder sharing the prefix', () => {
    expect(denied(new PathPolicy([inside]), path.join(sibling, 'events.csv'))).toMatch(/outside the allowed folders/);
  });

  it('rejects a symlinked file leading outside', () => {
    const message = denied(new PathPolicy([inside]), path.join(inside, 'link.csv'));
    expect(message).toContain(`resolves to ${path.join(outside, 'secret.csv')}`);
  });

  it('rejects a file under a symlinked folder leading outside', () => {
    expect(denied(new PathPolicy([inside]), path.join(inside, 'linked-folder', 'secret.csv'))).toMatch(/outside the allowed folders/);
  });

  it('reports outside before missing', () => {
    // The error for a missing file outside the roots must match the one for an existing file.
    const message = denied(new PathPolicy([inside]), path.join(outside, 'no-such-file.csv'));
    expect(message).toMatch(/outside the allowed folders/);
    expect(denied(new PathPolicy([inside]), path.join(inside, 'linked-folder', 'nope.csv'))).toMatch(/outside/);
  });

  it('reports a missing file inside a root', () => {
    expect(denied(new PathPolicy([inside]), path.join(inside, 'missing.csv'))).toMatch(/^File not found: /);
  });

  it.each(['/dev/zero', '/proc/self/environ', '/sys/kernel/mm'])('rejects %s even under root /', (file) => {
    expect(denied(new PathPolicy(['/']), file)).toMatch(/system and device files/);
    expect(denied(new PathPolicy([inside]), file)).toMatch(/Access denied/);
  });

  it('rejects a folder, which is not a regular file', () => {
    expect(denied(new PathPolicy([inside]), path.join(inside, 'nested'))).toMatch(/not a regular file/);
  });

  it('rejects a path with a NUL byte', () => {
    expect(denied(new PathPolicy([inside]), `${inside}/events.csv\0.txt`)).toMatch(/NUL byte/);
  });

  it('rejects URLs', () => {
    expect(denied(new PathPolicy([inside]), 'https://example.com/events.csv')).toMatch(/is a URL/);
  });

  it('rejects an empty path', () => {
    expect(denied(new PathPolicy([inside]), '  ')).toMatch(/empty/);
  });

  it('checks globs through their fixed folder', () => {
    const policy = new PathPolicy([inside]);
    expect(policy.resolveReadable(path.join(inside, '*.csv'))).toBe(path.join(inside, '*.csv'));
    expect(policy.resolveReadable(path.join(inside, '**', '*.csv'))).toBe(path.join(inside, '**', '*.csv'));
    expect(denied(policy, path.join(inside, '..', '*', '*.csv'))).toMatch(/outside/);
    expect(denied(policy, `${inside}/../secret/*.csv`)).toMatch(/outside/);
    expect(denied(policy, path.join(inside, 'linked-folder', '*.csv'))).toMatch(/outside/);
    expect(denied(policy, '/*/secret.csv')).toMatch(/outside/);
  });

  it('adds and replaces client roots', () => {
    const policy = new PathPolicy([inside]);
    policy.setClientRoots([outside]);
    expect(policy.allowedRoots).toEqual([inside, outside]);
    expect(policy.resolveReadable(path.join(outside, 'secret.csv'))).toBe(path.join(outside, 'secret.csv'));
    policy.setClientRoots([], 'The client roots were not added.');
    expect(denied(policy, path.join(outside, 'secret.csv'))).toMatch(/The client roots were not added\.$/);
  });
});

describe('DuckDB lockdown', () => {
  let ws: Workspace;
  let output: string;

  beforeAll(async () => {
    output = path.join(base, 'output');
    mkdirSync(output, { recursive: true });
    ws = await Workspace.open({ path: ':memory:', lockdown: true, allowedDirectories: [inside, output] });
  });
  afterAll(() => ws.close());

  async function failure(sql: string): Promise<string> {
    const error = await ws.query(sql).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error, sql).toBeDefined();
    return error!.message;
  }

  it('reads files inside the allowed folders', async () => {
    const rows = await ws.query(`SELECT count(*) AS n FROM read_csv(${quoteLiteral(path.join(inside, 'events.csv'))})`);
    expect(rows[0].n).toBe(2);
  });

  it('reads JSON and Parquet inside the allowed folders', async () => {
    const parquet = path.join(output, 'events.parquet');
    await ws.run(`COPY (SELECT 'u1' AS user_id) TO ${quoteLiteral(parquet)} (FORMAT parquet)`);
    expect((await ws.query(`SELECT count(*) AS n FROM read_parquet(${quoteLiteral(parquet)})`))[0].n).toBe(1);
    const json = writeFile(inside, 'events.ndjson', '{"user_id":"u1"}\n{"user_id":"u2"}\n');
    expect((await ws.query(`SELECT count(*) AS n FROM read_json(${quoteLiteral(json)}, format = 'newline_delimited')`))[0].n).toBe(2);
  });

  it('rejects read_csv of /etc/passwd', async () => {
    expect(await failure("SELECT * FROM read_csv('/etc/passwd')")).toMatch(/Permission Error/);
  });

  it('rejects a symlink inside an allowed folder', async () => {
    expect(await failure(`SELECT * FROM read_csv(${quoteLiteral(path.join(inside, 'link.csv'))})`)).toMatch(/Permission Error/);
  });

  it('rejects a sibling folder sharing the prefix', async () => {
    expect(await failure(`SELECT * FROM read_csv(${quoteLiteral(path.join(sibling, 'events.csv'))})`)).toMatch(/Permission Error/);
  });

  it('rejects COPY outside and allows it inside', async () => {
    expect(await failure(`COPY (SELECT 1) TO ${quoteLiteral(path.join(outside, 'out.csv'))}`)).toMatch(/Permission Error/);
    await ws.run(`COPY (SELECT 1 AS x) TO ${quoteLiteral(path.join(output, 'out.csv'))}`);
  });

  it('rejects ATTACH, INSTALL and LOAD', async () => {
    expect(await failure(`ATTACH ${quoteLiteral(path.join(outside, 'other.duckdb'))}`)).toMatch(/Permission Error/);
    expect(await failure('INSTALL httpfs')).toMatch(/Permission Error/);
    expect(await failure('LOAD httpfs')).toMatch(/Permission Error|disabled/);
  });

  it('rejects device and proc files', async () => {
    expect(await failure("SELECT * FROM read_text('/proc/self/environ')")).toMatch(/Permission Error/);
    expect(await failure("SELECT * FROM read_blob('/dev/zero')")).toMatch(/Permission Error/);
  });

  it('locks the configuration', async () => {
    expect(await failure('SET enable_external_access = true')).toMatch(/locked/);
    expect(await failure(`SET allowed_directories = [${quoteLiteral(outside)}]`)).toMatch(/locked|Cannot change/);
    expect(await failure("SET memory_limit = '100GB'")).toMatch(/locked/);
  });
});

describe('Workspace limits', () => {
  it('stops a statement at the timeout', async () => {
    const ws = await Workspace.open({ path: ':memory:', statementTimeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await ws.query('SELECT count(*) FROM range(100000000000)').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toMatch(/stopped after 300 ms/);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await ws.query('SELECT 42 AS x'))[0].x).toBe(42);
    } finally {
      ws.close();
    }
  });

  it('lists the columns of a query', async () => {
    const ws = await Workspace.open({ path: ':memory:', statementTimeoutMs: 60_000 });
    try {
      const columns = await ws.columns("SELECT 1 AS n, 'a' AS s LIMIT 0");
      expect(columns.map((column) => [column.name, column.type.toString()])).toEqual([
        ['n', 'INTEGER'],
        ['s', 'VARCHAR'],
      ]);
    } finally {
      ws.close();
    }
  });

  it('applies the memory limit', async () => {
    const ws = await Workspace.open({ path: ':memory:', memoryLimit: '256MiB' });
    try {
      const row = await ws.queryOne<{ limit: string }>("SELECT current_setting('memory_limit') AS limit");
      expect(row?.limit).toBe('256.0 MiB');
    } finally {
      ws.close();
    }
  });

  it('reopens a file workspace with more folders', async () => {
    const file = path.join(tempFolder('confinement-reopen-'), 'ws.duckdb');
    const ws = await Workspace.open({ path: file, lockdown: true, allowedDirectories: [inside] });
    try {
      await ws.run('CREATE TABLE kept AS SELECT 1 AS x');
      const secret = quoteLiteral(path.join(outside, 'secret.csv'));
      await expect(ws.query(`SELECT * FROM read_csv(${secret})`)).rejects.toThrow(/Permission Error/);

      await ws.reopen([inside, outside]);
      expect(ws.allowedDirectories).toEqual([inside, outside]);
      expect((await ws.query(`SELECT count(*) AS n FROM read_csv(${secret})`))[0].n).toBe(2);
      expect((await ws.query('SELECT x FROM kept'))[0].x).toBe(1);
      await expect(ws.run('SET enable_external_access = true')).rejects.toThrow(/locked/);
    } finally {
      ws.close();
    }
  });

  it('refuses to reopen an in-memory workspace', async () => {
    const ws = await Workspace.open({ path: ':memory:', lockdown: true, allowedDirectories: [inside] });
    try {
      const error = await ws.reopen([inside, outside]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toContain(`Cannot allow ${outside}: the workspace is in memory`);
      expect((error as Error).message).toMatch(/--allow DIR/);
    } finally {
      ws.close();
    }
  });
});
