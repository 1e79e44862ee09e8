import type { PathPolicy, Workspace } from './workspace/index.js';

/** Everything a tool handler needs: the workspace and what it may read and write. */
export interface ServerContext {
  readonly ws: Workspace;
  readonly paths: PathPolicy;
  /** Folder under the workspace where exports and rendered documents are written. */
  readonly outputDir: string;
}
