import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, repoRoot } from './paths.js';
import { StageTimer, printResult, type ChildResult } from './stages.js';

function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Splits bench/hand.sql into its "-- stage: name" blocks with the file paths filled in. */
export function handStages(dataDir: string, outFile: string): { name: string; sql: string }[] {
  const template = readFileSync(path.join(repoRoot(), 'bench', 'hand.sql'), 'utf8');
  const filled = template
    .replaceAll('{{events}}', sqlString(path.join(dataDir, 'events.parquet')))
    .replaceAll('{{users}}', sqlString(path.join(dataDir, 'users.parquet')))
    .replaceAll('{{billing}}', sqlString(path.join(dataDir, 'billing.parquet')))
    .replaceAll('{{support}}', sqlString(path.join(dataDir, 'support.parquet')))
    .replaceAll('{{out}}', sqlString(outFile));
  const blocks = filled.split(/^-- stage: /m).slice(1);
  return blocks.map((block) => {
    const newline = block.indexOf('\n');
    return { name: block.slice(0, newline).trim(), sql: block.slice(newline + 1) };
  });
}

/**
 * Runs the hand-written SQL in a fresh in-memory DuckDB instance and writes the compared
 * columns to `outFile`. Returns the wall time of each stage.
 */
export async function runHandSql(dataDir: string, outFile: string, threads?: number): Promise<ChildResult> {
  const timer = new StageTimer();
  const instance = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
  const connection = await instance.connect();
  try {
    for (const stage of handStages(dataDir, outFile)) {
      await timer.time(stage.name, async () => {
        const statements = await connection.extractStatements(stage.sql);
        for (let i = 0; i < statements.count; i++) {
          const prepared = await statements.prepare(i);
          try {
            await prepared.run();
          } finally {
            prepared.destroySync();
          }
        }
      });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return timer.result();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.data || !args.out) throw new Error('Usage: hand.js --data DIR --out FILE.csv [--threads N]');
  printResult(await runHandSql(path.resolve(args.data), path.resolve(args.out), args.threads ? Number(args.threads) : undefined));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`hand SQL failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
