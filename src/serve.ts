import { mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, startHttpServer } from './http.js';
import { Confinement, openSession } from './roots.js';
import { PathPolicy, UserInputError, Workspace, defaultWorkspacePath, log } from './workspace/index.js';

/** Help text of the serve options, shown by `segmentation-mcp --help`. */
export const SERVE_OPTIONS_HELP = `Options for serve:
  --workspace PATH     DuckDB workspace file, or :memory: (default: $SEGMENTATION_MCP_WORKSPACE
                       or ./segmentation.duckdb)
  --allow DIR          folder the server may read data from; repeat for several
                       (default: the working directory). The client's MCP roots are added.
  --memory-limit SIZE  DuckDB memory limit, e.g. 4GiB (default: half of the machine's memory)
  --timeout SECONDS    maximum time one query may run before it is stopped (default 600; 0: no limit)
  --http               serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio
  --port N             HTTP port (default ${DEFAULT_HTTP_PORT}; 0 picks a free port, printed to stderr)
  --host H             HTTP interface to bind (default ${DEFAULT_HTTP_HOST}, this machine only)
  --token TOKEN        require "Authorization: Bearer TOKEN" on every HTTP request
                       (default: $SEGMENTATION_MCP_TOKEN; prefer the variable, as arguments are visible to other users)
  --allowed-host H     accept this Host header besides localhost, as NAME or NAME:PORT; repeatable
  --allowed-origin O   accept this browser Origin besides http://localhost:PORT; repeatable
`;

const DEFAULT_TIMEOUT_SECONDS = 600;
const MEMORY_SIZE = /^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;

/** Everything `serve` needs, after the arguments are checked. */
export interface ServeConfig {
  readonly workspacePath: string;
  /** Allowed folders from --allow (or the working directory), resolved. */
  readonly roots: readonly string[];
  /** Folder next to the workspace where exports and documents are written. */
  readonly outputDir: string;
  readonly memoryLimit: string;
  readonly timeoutSeconds: number;
  readonly http?: {
    readonly host: string;
    readonly port: number;
    readonly token?: string;
    readonly allowedHosts: readonly string[];
    readonly allowedOrigins: readonly string[];
  };
}

/** Parses and checks the serve arguments; bad values raise a UserInputError naming them. */
export function parseServeArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workspace: { type: 'string' },
      allow: { type: 'string', multiple: true },
      'memory-limit': { type: 'string' },
      timeout: { type: 'string' },
      http: { type: 'boolean' },
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      'allowed-origin': { type: 'string', multiple: true },
    },
    strict: true,
  });

  const workspacePath = values.workspace ?? defaultWorkspacePath();
  const roots = (values.allow && values.allow.length > 0 ? values.allow : [process.cwd()]).map(checkFolder);
  const outputDir =
    workspacePath === ':memory:'
      ? path.join(tmpdir(), `segmentation-mcp-${process.pid}`)
      : path.join(path.dirname(path.resolve(workspacePath)), 'segmentation-output');

  const memoryLimit = values['memory-limit'] ?? `${Math.floor(totalmem() / 2 / 1024 / 1024)}MiB`;
  if (!MEMORY_SIZE.test(memoryLimit)) {
    throw new UserInputError(`Invalid --memory-limit "${memoryLimit}": give a size such as 512MiB or 4GiB.`);
  }
  const timeoutSeconds = values.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds < 0) {
    throw new UserInputError(`Invalid --timeout "${values.timeout}": give a number of seconds, or 0 for no limit.`);
  }

  const httpOnly = ['port', 'host', 'token', 'allowed-host', 'allowed-origin'] as const;
  if (!values.http) {
    const stray = httpOnly.find((name) => values[name] !== undefined);
    if (stray) throw new UserInputError(`--${stray} applies only to HTTP: add --http, or leave --${stray} out for stdio.`);
    return { workspacePath, roots, outputDir, memoryLimit, timeoutSeconds };
  }

  const port = values.port === undefined ? DEFAULT_HTTP_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserInputError(`Invalid --port "${values.port}": give a whole number from 0 to 65535 (0 picks a free port).`);
  }
  const token = values.token ?? env.SEGMENTATION_MCP_TOKEN;
  if (token !== undefined && token.trim() === '') {
    throw new UserInputError('The bearer token is empty: set --token or SEGMENTATION_MCP_TOKEN to a secret, or leave both unset.');
  }
  return {
    workspacePath,
    roots,
    outputDir,
    memoryLimit,
    timeoutSeconds,
    http: {
      host: values.host ?? DEFAULT_HTTP_HOST,
      port,
      token,
      allowedHosts: values['allowed-host'] ?? [],
      allowedOrigins: values['allowed-origin'] ?? [],
    },
  };
}

/**
 * Opens the workspace locked down to the allowed folders and the output folder, then
 * serves MCP over stdio or Streamable HTTP until the client leaves or a signal arrives.
 */
export async function serve(args: readonly string[]): Promise<void> {
  const config = parseServeArgs(args);
  mkdirSync(config.outputDir, { recursive: true });
  const outputDir = realpathSync(config.outputDir);
  const roots = new PathPolicy(config.roots).allowedRoots;
  const ws = await Workspace.open({
    path: config.workspacePath,
    lockdown: true,
    allowedDirectories: [...roots, outputDir],
    memoryLimit: config.memoryLimit,
    statementTimeoutMs: config.timeoutSeconds * 1000,
    // An in-memory database spills to ./.tmp by default, which would write into the user's folder.
    tempDirectory: config.workspacePath === ':memory:' ? path.join(tmpdir(), `segmentation-mcp-spill-${process.pid}`) : undefined,
  });
  const confinement = new Confinement(ws, roots, outputDir);
  // An in-memory workspace keeps nothing after the server stops, its output folder included.
  const removeTemporaryFiles = () => {
    if (config.workspacePath !== ':memory:') return;
    for (const folder of [outputDir, path.join(tmpdir(), `segmentation-mcp-spill-${process.pid}`)]) {
      rmSync(folder, { recursive: true, force: true });
    }
  };

  if (config.http) {
    const handle = await startHttpServer({ ...config.http, openSession: () => openSession(confinement) });
    process.stderr.write(`segmentation-mcp listening on ${handle.url}\n`);
    const shutdown = async () => {
      await handle.close().catch(() => undefined);
      ws.close();
      removeTemporaryFiles();
      process.exit(0);
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
    log.info('serving MCP over HTTP', { url: handle.url, roots: roots.length, memoryLimit: config.memoryLimit });
    return;
  }

  const session = openSession(confinement);
  const transport = new StdioServerTransport();
  const shutdown = async () => {
    await session.close().catch(() => undefined);
    ws.close();
    removeTemporaryFiles();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  transport.onclose = () => void shutdown();
  // A client ends a stdio session by closing our stdin; shut down cleanly instead of letting the process drain away.
  process.stdin.once('end', () => void shutdown());
  await session.server.connect(transport);
  log.info('serving MCP over stdio', { roots: roots.length, memoryLimit: config.memoryLimit });
}

function checkFolder(folder: string): string {
  const absolute = path.resolve(folder);
  let isFolder = false;
  try {
    isFolder = statSync(absolute).isDirectory();
  } catch {
    throw new UserInputError(`The folder given with --allow does not exist: ${absolute}. Check the path.`);
  }
  if (!isFolder) throw new UserInputError(`--allow ${absolute} is a file: give the folder that contains it.`);
  return absolute;
}
