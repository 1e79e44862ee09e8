import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns the repository root: the nearest folder above this module with a package.json (works from bench/ and dist/bench/). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('The repository root (a folder with package.json) was not found above the benchmark module.');
}

/** Folder of the generated files of one workload size; gitignored. */
export function benchDataDir(size: string): string {
  return path.join(repoRoot(), 'bench', 'data', size);
}

/** Folder of benchmark results (JSON and CSV); gitignored. */
export function benchResultsDir(): string {
  return path.join(repoRoot(), 'bench', 'results');
}

/** Reads `--name value` and `--flag` arguments into a record; a flag without a value becomes 'true'. */
export function parseArgs(argv: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}": options are written --name value.`);
    const eq = arg.indexOf('=');
    if (eq > 0) {
      result[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      result[arg.slice(2)] = argv[++i];
    } else {
      result[arg.slice(2)] = 'true';
    }
  }
  return result;
}
