import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportUsersCsv } from '../src/analyze.js';
import { loadData, type TableName } from '../src/ingest/index.js';
import { computeScores } from '../src/scoring/index.js';
import { evaluateSegments } from '../src/segments/index.js';
import { renderStrategy } from '../src/strategy/index.js';
import { Workspace, quoteLiteral } from '../src/workspace/index.js';
import { productSelectList } from './columns.js';
import { parseArgs } from './paths.js';
import { StageTimer, printResult, type ChildResult } from './stages.js';

/** The same order as `segmentation-mcp analyze`: users first, so that events can be matched to them. */
const LOAD_ORDER: TableName[] = ['users', 'events', 'billing', 'support'];

export interface ProductRunOptions {
  readonly dataDir: string;
  /** Workspace database file; deleted first. ':memory:' keeps it in memory. */
  readonly workspacePath: string;
  /** Folder for strategy.md, users.csv and compared.csv. */
  readonly outDir: string;
  readonly threads?: number;
  /** DuckDB memory_limit of the workspace, e.g. '1GB'; default: DuckDB's own (80% of the machine's memory). */
  readonly memoryLimit?: string;
}

/**
 * Runs the product end to end on the benchmark files, timing each stage: load the four
 * files, compute every score, evaluate and store every built-in segment, render the strategy and
 * export users.csv. Writes the compared columns to `outDir/compared.csv` (not timed).
 */
export async function runProduct(options: ProductRunOptions): Promise<ChildResult> {
  if (options.workspacePath !== ':memory:') {
    rmSync(options.workspacePath, { force: true });
    rmSync(`${options.workspacePath}.wal`, { force: true });
  }
  mkdirSync(options.outDir, { recursive: true });
  const timer = new StageTimer();
  const ws = await timer.time('open', () => Workspace.open({ path: options.workspacePath, threads: options.threads, memoryLimit: options.memoryLimit }));
  try {
    await timer.time('load', async () => {
      for (const table of LOAD_ORDER) {
        await loadData(ws, { table, path: path.join(options.dataDir, `${table}.parquet`) });
      }
    });
    const run = await timer.time('score', () => computeScores(ws));
    const evaluation = await timer.time('segments', () => evaluateSegments(ws));
    const segments = {
      evaluated: evaluation.segments.filter((segment) => segment.error === undefined).length,
      failed: evaluation.segments.filter((segment) => segment.error !== undefined).map((segment) => ({ name: segment.name, error: segment.error })),
    };
    await timer.time('strategy', async () => {
      const { markdown } = await renderStrategy(ws);
      writeFileSync(path.join(options.outDir, 'strategy.md'), markdown);
    });
    await timer.time('export', () => exportUsersCsv(ws, path.join(options.outDir, 'users.csv')));

    await ws.run(
      `COPY (SELECT ${productSelectList()} FROM user_scores s JOIN user_metrics m USING (user_id) ORDER BY s.user_id)
       TO ${quoteLiteral(path.join(options.outDir, 'compared.csv'))} (FORMAT csv, HEADER)`,
    );
    return timer.result({ users: run.users, asOf: run.asOf, segments });
  } finally {
    ws.close();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.data || !args.out) throw new Error('Usage: product.js --data DIR --out DIR [--workspace FILE|:memory:] [--threads N] [--memory-limit 1GB]');
  const outDir = path.resolve(args.out);
  const result = await runProduct({
    dataDir: path.resolve(args.data),
    workspacePath: args.workspace ?? path.join(outDir, 'workspace.duckdb'),
    outDir,
    threads: args.threads ? Number(args.threads) : undefined,
    memoryLimit: args['memory-limit'],
  });
  printResult(result);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`product run failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
