import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { log } from './workspace/index.js';

/** Path of the MCP endpoint. */
export const MCP_PATH = '/mcp';
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export const DEFAULT_HTTP_PORT = 3000;
const DEFAULT_MAX_SESSIONS = 64;
/** Largest accepted POST body; tool arguments are small, data files are read from disk. */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The parts of one MCP session that the HTTP server uses. */
export interface HttpSession {
  readonly server: McpServer;
  /** Called shortly after the client opens its event stream (GET), so server requests can reach it. */
  refreshRoots?(): void;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  /** Interface to bind; 127.0.0.1 by default. */
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Bearer token every request must carry; unset means no authentication. */
  readonly token?: string;
  /** Extra accepted Host header values, as `name` (any port) or `name:port`. */
  readonly allowedHosts?: readonly string[];
  /** Extra accepted Origin header values, such as `https://app.example.com`. */
  readonly allowedOrigins?: readonly string[];
  /** Creates the MCP server of a new session. */
  readonly openSession: () => HttpSession;
  /** Sessions open at once before new ones get 503; default 64. */
  readonly maxSessions?: number;
  readonly maxBodyBytes?: number;
}

export interface HttpServerHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:3000/mcp. */
  readonly url: string;
  readonly port: number;
  sessionCount(): number;
  /** Ends every session and stops listening. */
  close(): Promise<void>;
}

interface OpenSession {
  readonly session: HttpSession;
  readonly transport: StreamableHTTPServerTransport;
}

/** An HTTP error sent as a JSON-RPC error object, the shape MCP clients expect. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Serves MCP over Streamable HTTP on one endpoint, {@link MCP_PATH}. Each `initialize`
 * request opens a session with its own MCP server; later requests name it in the
 * `Mcp-Session-Id` header, and DELETE ends it. Every request first passes the Host and
 * Origin checks (against DNS rebinding) and, when a token is set, the bearer token check.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? DEFAULT_HTTP_HOST;
  const sessions = new Map<string, OpenSession>();
  const httpServer = createHttpServer();
  // Set once listening, because the accepted Host and Origin values carry the bound port.
  let checks: RequestChecks | undefined;

  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res, checks!, sessions, options).catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendError(res, error);
        return;
      }
      log.error('HTTP request failed', { method: req.method, error: String(error), stack: (error as Error).stack });
      sendError(res, new HttpError(500, 'Internal server error.'));
    });
  });

  await listen(httpServer, options.port ?? DEFAULT_HTTP_PORT, host);
  const port = (httpServer.address() as AddressInfo).port;
  checks = new RequestChecks(port, options);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${MCP_PATH}`;
  if (!isLoopback(host) && !options.token) {
    log.warn('HTTP server bound to a non-loopback address without a token; anyone who can reach it can read the allowed folders', { host });
  }
  log.info('HTTP server listening', { url, auth: options.token ? 'bearer' : 'none' });

  return {
    url,
    port,
    sessionCount: () => sessions.size,
    close: async () => {
      const open = [...sessions.values()];
      sessions.clear();
      for (const { session, transport } of open) {
        await transport.close().catch(() => undefined);
        await session.close().catch(() => undefined);
      }
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      log.info('HTTP server stopped', { url });
    },
  };
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  checks: RequestChecks,
  sessions: Map<string, OpenSession>,
  options: HttpServerOptions,
): Promise<void> {
  const pathname = new URL(req.url ?? '/', 'http://placeholder').pathname;
  if (pathname !== MCP_PATH) throw new HttpError(404, `Not found: the MCP endpoint is ${MCP_PATH}.`);
  checks.checkHost(req.headers.host);
  checks.checkOrigin(req.headers.origin);
  checks.checkToken(req.headers.authorization);
  if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
    throw new HttpError(405, `Method ${req.method} is not allowed; use POST, GET or DELETE.`, { Allow: 'GET, POST, DELETE' });
  }

  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const open = sessions.get(sessionId);
    if (!open) throw new HttpError(404, `Session not found: ${sessionId}. It ended or never existed; initialize a new session.`);
    const body = req.method === 'POST' ? await readJsonBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) : undefined;
    if (req.method === 'GET') setTimeout(() => open.session.refreshRoots?.(), 50);
    await open.transport.handleRequest(req, res, body);
    return;
  }

  if (req.method !== 'POST') throw new HttpError(400, 'Missing Mcp-Session-Id header: initialize a session with a POST first.');
  const body = await readJsonBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  if (!isInitializeRequest(body)) {
    throw new HttpError(400, 'Missing Mcp-Session-Id header: only an initialize request may come without one.');
  }
  if (sessions.size >= (options.maxSessions ?? DEFAULT_MAX_SESSIONS)) {
    throw new HttpError(503, `Too many open sessions (${sessions.size}). End unused sessions with DELETE and try again.`);
  }
  await startSession(req, res, body, sessions, options);
}

async function startSession(
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  sessions: Map<string, OpenSession>,
  options: HttpServerOptions,
): Promise<void> {
  const session = options.openSession();
  let registered = false;
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (id) => {
      registered = true;
      sessions.set(id, { session, transport });
      log.info('HTTP session opened', { session: id, sessions: sessions.size });
    },
    onsessionclosed: (id) => {
      sessions.delete(id);
      log.info('HTTP session ended by the client', { session: id, sessions: sessions.size });
    },
  });
  transport.onclose = () => {
    const id = transport.sessionId;
    if (id !== undefined) sessions.delete(id);
    void session.close().catch((error: unknown) => log.warn('closing an MCP session failed', { error: String(error) }));
  };

  await session.server.connect(transport);
  await transport.handleRequest(req, res, body);
  if (!registered) await transport.close();
}

/** Host, Origin and bearer token checks for one listening port. */
class RequestChecks {
  private readonly hosts: Set<string>;
  private readonly hostnamesAnyPort: Set<string>;
  private readonly origins: Set<string>;
  private readonly tokenDigest: Buffer | undefined;

  constructor(port: number, options: HttpServerOptions) {
    this.hosts = new Set(LOOPBACK_HOSTNAMES.map((name) => `${name}:${port}`));
    this.hostnamesAnyPort = new Set();
    for (const entry of options.allowedHosts ?? []) {
      const value = entry.toLowerCase();
      if (/:\d+$/.test(value)) this.hosts.add(value);
      else this.hostnamesAnyPort.add(value);
    }
    this.origins = new Set(LOOPBACK_HOSTNAMES.map((name) => `http://${name}:${port}`));
    for (const entry of options.allowedOrigins ?? []) this.origins.add(normalizeOrigin(entry) ?? entry);
    this.tokenDigest = options.token ? digest(options.token) : undefined;
  }

  checkHost(header: string | undefined): void {
    if (!header) throw new HttpError(403, 'Missing Host header.');
    const value = header.toLowerCase();
    if (this.hosts.has(value)) return;
    let hostname: string;
    try {
      hostname = new URL(`http://${value}`).hostname;
    } catch {
      throw new HttpError(403, `Invalid Host header: ${header}.`);
    }
    if (this.hostnamesAnyPort.has(hostname)) return;
    throw new HttpError(403, `Host ${header} is not allowed. Connect through localhost, or start the server with --allowed-host ${header}.`);
  }

  /** A request without Origin comes from a non-browser client and passes; a browser's must match. */
  checkOrigin(header: string | undefined): void {
    if (header === undefined) return;
    const origin = normalizeOrigin(header);
    if (origin !== undefined && this.origins.has(origin)) return;
    throw new HttpError(403, `Origin ${header} is not allowed. Start the server with --allowed-origin ${header} to accept it.`);
  }

  checkToken(header: string | undefined): void {
    if (!this.tokenDigest) return;
    const challenge = 'Bearer realm="segmentation-mcp"';
    const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) {
      throw new HttpError(401, 'Missing bearer token: send "Authorization: Bearer TOKEN".', { 'WWW-Authenticate': challenge });
    }
    // Comparing fixed-length digests keeps the time independent of where the tokens differ, and of their lengths.
    if (!timingSafeEqual(digest(match[1]), this.tokenDigest)) {
      throw new HttpError(401, 'Invalid bearer token.', { 'WWW-Authenticate': `${challenge}, error="invalid_token"` });
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function normalizeOrigin(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError(413, `Request body larger than ${maxBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
}

function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const code = error.status === 400 ? -32600 : error.status === 404 ? -32001 : -32000;
  const payload = { jsonrpc: '2.0', error: { code, message: error.message }, id: null };
  res.writeHead(error.status, { 'Content-Type': 'application/json', ...error.headers });
  res.end(JSON.stringify(payload));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
