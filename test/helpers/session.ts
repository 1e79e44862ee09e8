import { mkdirSync } from 'node:fs';
import { Confinement } from '../../src/roots.js';
import { Workspace } from '../../src/workspace/index.js';

/** Opens a locked-down workspace the way `serve` does, with `roots` readable and `outputDir` writable. */
export async function openConfinement(options: {
  workspacePath: string;
  roots: readonly string[];
  outputDir: string;
}): Promise<Confinement> {
  mkdirSync(options.outputDir, { recursive: true });
  const ws = await Workspace.open({
    path: options.workspacePath,
    lockdown: true,
    allowedDirectories: [...options.roots, options.outputDir],
    statementTimeoutMs: 60_000,
  });
  return new Confinement(ws, options.roots, options.outputDir);
}
