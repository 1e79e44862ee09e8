import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runHandChild, runLatencyChild, runPandasChild, runProductChild, pandasVersion } from './children.js';
import { compareResults, describeComparison, isEqual } from './compare.js';
import { COMPARED_COLUMNS } from './columns.js';
import { SIZES, generateWorkload, specFor, type Manifest, type SizeName } from './generate.js';
import { benchDataDir, benchResultsDir, parseArgs, repoRoot } from './paths.js';
import type { ChildResult } from './stages.js';

/** Targets from the benchmark's brief; reported next to the figures, never asserted. */
export const TARGETS = {
  productOverHand: 1.3,
  pandasOverProduct: 15,
  peakRssGbAt10M: 1.5,
  growthOverLinear: 1.1,
  findUsersMedianMs: 300,
};

type Implementation = 'product' | 'hand' | 'pandas';

interface Summary {
  readonly runs: number;
  /** Median wall time per stage and in total, milliseconds. */
  readonly stages: Record<string, number>;
  readonly totalMs: number;
  /** Largest peak resident memory over the runs, MiB. */
  readonly peakRssMb: number;
  readonly extra?: Record<string, unknown>;
}

interface SizeReport {
  readonly size: SizeName;
  readonly manifest: Manifest;
  readonly equality: Record<string, string>;
  readonly results: Partial<Record<Implementation, Summary>>;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function summarize(results: readonly ChildResult[]): Summary {
  const stageNames = [...new Set(results.flatMap((r) => Object.keys(r.stages)))];
  const stages = Object.fromEntries(stageNames.map((name) => [name, median(results.map((r) => r.stages[name] ?? 0))]));
  const { stages: _stages, totalMs: _total, maxRssKb: _rss, ...extra } = results[results.length - 1];
  return {
    runs: results.length,
    stages,
    totalMs: median(results.map((r) => r.totalMs)),
    peakRssMb: Math.max(...results.map((r) => r.maxRssKb)) / 1024,
    extra,
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

interface RunOptions {
  readonly size: SizeName;
  readonly runs: number;
  readonly pandasRuns: number;
  readonly withPandas: boolean;
  readonly log: (line: string) => void;
}

/**
 * Generates (or reuses) one workload, runs the three implementations on it, checks that
 * their per-user results agree, and only then runs the timed repetitions. Throws when the
 * results differ, so no timing is reported for implementations that disagree.
 */
export async function benchmarkSize(options: RunOptions): Promise<SizeReport> {
  const { size, log } = options;
  const dataDir = benchDataDir(size);
  log(`[${size}] generating ${SIZES[size].events} events for ${SIZES[size].users} users in ${path.relative(repoRoot(), dataDir)} (reused when present)`);
  const manifest = await generateWorkload(dataDir, specFor(size));
  log(`[${size}] ${manifest.counts.events} events, ${manifest.counts.users} users, ${manifest.counts.billing} billing rows, ${manifest.counts.support} tickets`);

  const outDir = path.join(benchResultsDir(), size);
  mkdirSync(outDir, { recursive: true });
  const productOut = path.join(outDir, 'product');
  const handOut = path.join(outDir, 'hand.csv');
  const pandasOut = path.join(outDir, 'pandas.csv');
  const runners: Record<Implementation, () => Promise<ChildResult>> = {
    product: () => runProductChild(dataDir, productOut),
    hand: () => runHandChild(dataDir, handOut),
    pandas: () => runPandasChild(path.join(dataDir, 'csv'), pandasOut),
  };
  const implementations: Implementation[] = options.withPandas ? ['product', 'hand', 'pandas'] : ['product', 'hand'];
  const collected: Record<Implementation, ChildResult[]> = { product: [], hand: [], pandas: [] };

  // The first round doubles as the equality check: each implementation's output is compared to the product's.
  for (const name of implementations) {
    log(`[${size}] run 1: ${name}`);
    collected[name].push(await runners[name]());
  }
  const equality: Record<string, string> = {};
  let equal = true;
  for (const [name, file] of [['hand', handOut], ['pandas', pandasOut]] as const) {
    if (!implementations.includes(name)) continue;
    const comparison = await compareResults(path.join(productOut, 'compared.csv'), file);
    const line = describeComparison(`product vs ${name === 'hand' ? 'hand SQL' : 'pandas'}`, comparison);
    log(`[${size}] ${line}`);
    equality[name] = line;
    equal &&= isEqual(comparison);
  }
  if (!equal) {
    throw new Error(`[${size}] the implementations disagree (see above), so no timings are reported. Fix the difference first.`);
  }

  for (let run = 2; run <= options.runs; run++) {
    for (const name of implementations) {
      if (name === 'pandas' && run > options.pandasRuns) continue;
      log(`[${size}] run ${run}: ${name}`);
      collected[name].push(await runners[name]());
    }
  }
  const results: Partial<Record<Implementation, Summary>> = {};
  for (const name of implementations) results[name] = summarize(collected[name]);
  return { size, manifest, equality, results };
}

function machine(): Record<string, string> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const memKb = Number(/MemTotal:\s*(\d+)/.exec(meminfo)?.[1] ?? 0);
  const duckdb = JSON.parse(readFileSync(path.join(repoRoot(), 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    cpu: model,
    cores: String(os.cpus().length),
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    node: process.version,
    duckdb: duckdb.version,
    loadAverage: os.loadavg().map((n) => n.toFixed(2)).join(' '),
  };
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : 'n/a';
}

/** Renders one size's figures as a Markdown table with the ratios and their targets. */
export function markdownTable(report: SizeReport): string {
  const { product, hand, pandas } = report.results;
  const stageNames = [...new Set([product, hand, pandas].flatMap((s) => (s ? Object.keys(s.stages) : [])))];
  const cell = (summary: Summary | undefined, stage: string) =>
    summary && summary.stages[stage] !== undefined ? seconds(summary.stages[stage]) : '';
  const lines = [
    `Workload ${report.size}: ${report.manifest.counts.events} events, ${report.manifest.counts.users} users ` +
      `(median of ${product?.runs ?? 0} runs; pandas ${pandas?.runs ?? 0})`,
    '',
    '| stage (s) | product | hand SQL | pandas |',
    '|---|---:|---:|---:|',
    ...stageNames.map((stage) => `| ${stage} | ${cell(product, stage)} | ${cell(hand, stage)} | ${cell(pandas, stage)} |`),
    `| **total** | **${product ? seconds(product.totalMs) : ''}** | **${hand ? seconds(hand.totalMs) : ''}** | **${pandas ? seconds(pandas.totalMs) : ''}** |`,
    `| peak RSS (MiB) | ${product?.peakRssMb.toFixed(0) ?? ''} | ${hand?.peakRssMb.toFixed(0) ?? ''} | ${pandas?.peakRssMb.toFixed(0) ?? ''} |`,
    '',
    `- product / hand SQL, total: ${ratio(product?.totalMs, hand?.totalMs)} (target <= ${TARGETS.productOverHand})`,
    `- product / hand SQL, scoring stage alone: ${ratio(product?.stages.score, hand?.totalMs)}`,
    `- pandas / product, total: ${ratio(pandas?.totalMs, product?.totalMs)} (target >= ${TARGETS.pandasOverProduct})`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = (args.size ?? 'quick') as SizeName;
  if (!(size in SIZES)) throw new Error(`Unknown size "${size}". Use one of: ${Object.keys(SIZES).join(', ')}.`);
  const runs = Number(args.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`Invalid --runs "${args.runs}": use a whole number of 1 or more.`);
  const pandasRuns = Number(args['pandas-runs'] ?? runs);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const pandas = await pandasVersion();
  const withPandas = pandas !== undefined && args['no-pandas'] !== 'true';
  if (pandas === undefined) log('pandas is missing from /usr/bin/python3, so the pandas column is skipped; run bench/setup.sh (needs root) to install it.');

  const sizes: SizeName[] = size === 'quick' || args.scaling === 'false' ? [size] : ['quick', size];
  const reports: SizeReport[] = [];
  for (const name of sizes) reports.push(await benchmarkSize({ size: name, runs, pandasRuns, withPandas, log }));

  const largest = reports[reports.length - 1];
  const calls = Number(args.calls ?? 50);
  log(`[${largest.size}] find_users over MCP: ${calls} calls`);
  const latency = await runLatencyChild(path.join(benchResultsDir(), largest.size, 'product', 'workspace.duckdb'), calls);

  const out: string[] = [];
  for (const report of reports) out.push(markdownTable(report), '');
  if (reports.length === 2) {
    const [small, large] = reports;
    const eventsRatio = large.manifest.counts.events / small.manifest.counts.events;
    for (const name of ['product', 'hand'] as const) {
      const growth = (large.results[name]?.totalMs ?? NaN) / (small.results[name]?.totalMs ?? NaN);
      out.push(
        `- ${name}: ${eventsRatio.toFixed(1)}x the events took ${growth.toFixed(2)}x the time, ` +
          `${(growth / eventsRatio).toFixed(2)}x linear (target <= ${TARGETS.growthOverLinear})`,
      );
    }
  }
  out.push(
    `- peak RSS of the product at ${largest.manifest.counts.events} events: ${largest.results.product?.peakRssMb.toFixed(0)} MiB ` +
      `(target <= ${TARGETS.peakRssGbAt10M * 1024} MiB at 10M events)`,
    `- find_users over MCP on the scored ${largest.size} workspace: median ${Number(latency.medianMs).toFixed(1)} ms, ` +
      `p90 ${Number(latency.p90Ms).toFixed(1)} ms over ${calls} calls (target median <= ${TARGETS.findUsersMedianMs} ms)` +
      ((latency.errors as string[]).length > 0 ? `, ${(latency.errors as string[]).length} calls returned errors` : ''),
  );
  const product = largest.results.product?.extra?.segments as { evaluated: number; failed: { name: string; error: string }[] } | undefined;
  if (product) {
    out.push(`- built-in segments evaluated by the product: ${product.evaluated}` +
      (product.failed.length > 0 ? `; failed: ${product.failed.map((f) => `${f.name} (${f.error})`).join(', ')}` : ''));
  }
  out.push(`- compared columns (${COMPARED_COLUMNS.length}): ${COMPARED_COLUMNS.map((c) => c.name).join(', ')}`);
  const info = machine();
  out.push(
    `- machine: ${info.cpu}, ${info.cores} cores, ${info.memory}; node ${info.node}, @duckdb/node-api ${info.duckdb}, ` +
      `pandas ${pandas ?? 'not installed'}; load average at the end ${info.loadAverage}`,
  );
  const text = out.join('\n');
  process.stdout.write(`${text}\n`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const record = { date: new Date().toISOString(), machine: info, pandas, reports, latency, text };
  writeFileSync(path.join(benchResultsDir(), `${largest.size}-${stamp}.json`), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(path.join(benchResultsDir(), `${largest.size}-latest.md`), `${text}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`benchmark failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
