import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { RootsListChangedNotificationSchema, type Root } from '@modelcontextprotocol/sdk/types.js';
import { createServer } from './server.js';
import { PathPolicy, UserInputError, log, type Workspace } from './workspace/index.js';

/** How long one roots/list request may take before it is sent again. */
const ROOTS_REQUEST_TIMEOUT_MS = 5_000;
const ROOTS_REQUEST_ATTEMPTS = 3;

/**
 * The folders one server process may read, shared by all its MCP sessions: the fixed
 * roots from the command line, plus each session's client roots. DuckDB's allowed list
 * is the union over all sessions (it is one instance), while each session's PathPolicy
 * admits only the fixed roots and that session's own client roots.
 */
export class Confinement {
  private grants: Promise<unknown> = Promise.resolve();

  constructor(
    readonly ws: Workspace,
    private readonly fixedRoots: readonly string[],
    /** Folder under the workspace where exports and rendered documents are written. */
    readonly outputDir: string,
  ) {}

  /** Creates the path policy of a new session, starting with the fixed roots only. */
  newSessionPolicy(): PathPolicy {
    return new PathPolicy(this.fixedRoots);
  }

  /**
   * Sets a session's client roots. Folders DuckDB may not read yet are added to its
   * allowed list by reopening the workspace; for an in-memory workspace that is
   * impossible, so those folders are left out and the session's access-denied errors
   * explain why.
   */
  grantClientRoots(policy: PathPolicy, folders: readonly string[]): Promise<void> {
    const next = this.grants.then(() => this.grant(policy, folders));
    this.grants = next.catch(() => undefined);
    return next;
  }

  private async grant(policy: PathPolicy, folders: readonly string[]): Promise<void> {
    const requested = new PathPolicy(folders).allowedRoots;
    const engine = new PathPolicy(this.ws.allowedDirectories);
    const missing = requested.filter((folder) => !engine.contains(folder));
    if (missing.length === 0 || !this.ws.lockedDown) {
      policy.setClientRoots(requested);
      return;
    }
    try {
      await this.ws.reopen([...this.ws.allowedDirectories, ...missing]);
      policy.setClientRoots(requested);
      log.info('client roots added', { roots: requested.length, reopened: true });
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      policy.setClientRoots(
        requested.filter((folder) => !missing.includes(folder)),
        `The client's roots ${missing.join(', ')} were not added: ${error.message}`,
      );
      log.warn('client roots not added', { roots: missing.length, reason: 'in-memory workspace' });
    }
  }
}

/** One MCP session: its server and the hooks a transport calls. */
export interface McpSession {
  readonly server: McpServer;
  /** Asks the client for its roots again; the HTTP transport calls it once the client's event stream is open. */
  refreshRoots(): void;
  close(): Promise<void>;
}

/**
 * Creates the MCP server of one session, with its own path policy, and keeps that
 * policy in step with the client's roots. On `notifications/initialized` and on
 * `notifications/roots/list_changed`, it sends `roots/list` if the client declared the
 * roots capability, then grants the file:// folders that exist.
 */
export function openSession(confinement: Confinement): McpSession {
  const paths = confinement.newSessionPolicy();
  const server = createServer({ ws: confinement.ws, paths, outputDir: confinement.outputDir });
  const roots = new ClientRoots(server, paths, confinement);

  const previous = server.server.oninitialized;
  server.server.oninitialized = () => {
    previous?.();
    roots.refresh();
  };
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => roots.refresh());

  let closed = false;
  return {
    server,
    refreshRoots: () => roots.refresh(),
    close: async () => {
      // Closing the server closes its transport, whose close handler may call this again.
      if (closed) return;
      closed = true;
      roots.stop();
      await server.close();
    },
  };
}

class ClientRoots {
  /** Number of the latest refresh; an older one that finishes late is ignored. */
  private sequence = 0;
  private stopped = false;

  constructor(
    private readonly server: McpServer,
    private readonly paths: PathPolicy,
    private readonly confinement: Confinement,
  ) {}

  refresh(): void {
    if (this.stopped || !this.server.server.getClientCapabilities()?.roots) return;
    this.sequence += 1;
    void this.fetch(this.sequence);
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Sends roots/list, retrying on timeout: over HTTP a request sent before the client
   * has opened its event stream is dropped by the transport.
   */
  private async fetch(sequence: number): Promise<void> {
    for (let attempt = 1; attempt <= ROOTS_REQUEST_ATTEMPTS; attempt++) {
      try {
        const result = await this.server.server.listRoots(undefined, { timeout: ROOTS_REQUEST_TIMEOUT_MS });
        if (this.isStale(sequence)) return;
        await this.confinement.grantClientRoots(this.paths, localFolders(result.roots));
        return;
      } catch (error) {
        if (this.isStale(sequence)) return;
        log.warn('roots/list failed', { attempt, error: (error as Error).message });
      }
    }
  }

  private isStale(sequence: number): boolean {
    return this.stopped || sequence !== this.sequence;
  }
}

/** The existing local folders (or files) among the client's roots; other URIs are skipped. */
function localFolders(roots: readonly Root[]): string[] {
  const folders: string[] = [];
  for (const root of roots) {
    if (!root.uri.startsWith('file://')) {
      log.debug('client root skipped: not a file:// URI', { uri: root.uri });
      continue;
    }
    let folder: string;
    try {
      folder = fileURLToPath(root.uri);
      statSync(folder);
    } catch (error) {
      // The message names the path, which stays out of logs below debug level.
      log.warn('client root skipped: not found or not a local path', { code: (error as NodeJS.ErrnoException).code });
      log.debug('client root skipped', { error: (error as Error).message });
      continue;
    }
    folders.push(folder);
  }
  return folders;
}
