import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDataDir, parseArgs } from './paths.js';

/**
 * Workload generator for the benchmark. Every row is computed in DuckDB SQL from
 * `range()` and `hash(seed, row, salt)`, so the same seed and sizes give the same files
 * with the same DuckDB version (DuckDB does not promise a stable `hash` across versions).
 */

export interface WorkloadSpec {
  readonly users: number;
  /** Target number of events; the generated count lands within a few percent of it. */
  readonly events: number;
  readonly seed: number;
  /** Share of sessions whose events carry a session_id; the rest are split by the 30-minute gap. */
  readonly sessionIdShare: number;
}

export const SIZES = {
  tiny: { users: 1_000, events: 20_000 },
  quick: { users: 10_000, events: 1_000_000 },
  standard: { users: 100_000, events: 10_000_000 },
  scaling: { users: 500_000, events: 50_000_000 },
} as const;
export type SizeName = keyof typeof SIZES;

export const DEFAULT_SEED = 20261031;

/** Last day with events. The product's default as-of date is this day; the boundary is the next midnight (UTC). */
export const LAST_DAY = '2026-10-31';
/** Days of event history before the last day. */
export const HISTORY_DAYS = 90;

/** Product features (not in the product's default non-feature list). */
export const FEATURES = [
  'report_created', 'dashboard_edited', 'chart_added', 'filter_applied', 'query_run',
  'export_csv', 'alert_created', 'template_used', 'data_imported', 'integration_connected',
  'workflow_automated', 'api_key_created', 'comment_added', 'share_link_created', 'invite_sent',
] as const;

export const TABLES = ['users', 'events', 'billing', 'support'] as const;
export type BenchTable = (typeof TABLES)[number];

/** Bumped whenever the SQL below changes, so stale files are regenerated. */
const GENERATOR_VERSION = 4;

export interface Manifest {
  readonly version: number;
  readonly spec: WorkloadSpec;
  readonly lastDay: string;
  readonly counts: Record<BenchTable, number>;
  readonly seconds: number;
}

/** Returns SQL for a uniform number in [0, 1) drawn from the seed, a row key and a salt. */
function uniform(seed: number, key: string, salt: number): string {
  // One integer per (key, salt), mixed with the seed, then DuckDB's 64-bit integer hash; hashing the three values
  // separately gave correlated draws for neighbouring salts.
  return `(hash(xor((${key})::BIGINT * 1024 + ${salt}, ${seed}::BIGINT * 2147483648)) / 18446744073709551616.0)`;
}

function generationSql(spec: WorkloadSpec): string[] {
  const u = (key: string, salt: number) => uniform(spec.seed, key, salt);
  const features = `[${FEATURES.map((name) => `'${name}'`).join(', ')}]`;
  const end = `TIMESTAMP '${LAST_DAY} 00:00:00' + INTERVAL 1 DAY`;
  // Mean events per session is about 5, so this many sessions yield roughly the target events.
  const sessions = Math.max(1, Math.round(spec.events / 4.6));
  return [
    // One row per user with its behaviour profile: how often it comes back, over which days, how many features it uses.
    `CREATE TABLE profile AS
     WITH base AS (
       SELECT i, 'u' || lpad(i::VARCHAR, 7, '0') AS user_id, ${u('i', 1)} AS a, ${u('i', 2)} AS b, ${u('i', 3)} AS c
       FROM range(${spec.users}) t(i)
     ), typed AS (
       SELECT *, CASE
         WHEN a < 0.05 THEN 'never' WHEN a < 0.17 THEN 'power' WHEN a < 0.42 THEN 'regular'
         WHEN a < 0.64 THEN 'casual' WHEN a < 0.79 THEN 'declining' WHEN a < 0.92 THEN 'dormant' ELSE 'new' END AS kind
       FROM base
     )
     SELECT i, user_id, kind, c,
       CASE kind WHEN 'new' THEN floor(b * 12)::INTEGER ELSE 60 + floor(b * 340)::INTEGER END AS signup_days_ago,
       CASE kind WHEN 'dormant' THEN 30 + floor(c * 50)::INTEGER WHEN 'declining' THEN floor(c * 12)::INTEGER
         WHEN 'casual' THEN floor(c * 6)::INTEGER ELSE 0 END AS last_days_ago,
       CASE kind WHEN 'power' THEN 3.0 WHEN 'regular' THEN 1.0 WHEN 'casual' THEN 0.3 WHEN 'declining' THEN 0.8
         WHEN 'dormant' THEN 0.5 WHEN 'new' THEN 1.0 ELSE 0 END AS daily_rate,
       CASE kind WHEN 'power' THEN 11 + floor(b * 5) WHEN 'regular' THEN 5 + floor(b * 6)
         WHEN 'declining' THEN 4 + floor(b * 6) ELSE 1 + floor(b * 5) END::INTEGER AS breadth,
       floor(${u('i', 4)} * 15)::INTEGER AS feature_offset
     FROM typed`,
    `CREATE TABLE span AS
     SELECT *, least(${HISTORY_DAYS}, signup_days_ago) AS first_days_ago,
       greatest(0, least(${HISTORY_DAYS}, signup_days_ago) - last_days_ago) + 1 AS active_span,
       daily_rate * (greatest(0, least(${HISTORY_DAYS}, signup_days_ago) - last_days_ago) + 1) AS weight
     FROM profile`,
    // Cumulative weights let each session pick its user in proportion to the user's weight (ASOF join below).
    `CREATE TABLE cum AS
     SELECT user_id, first_days_ago, last_days_ago, active_span, kind, breadth, feature_offset, c,
       coalesce(sum(weight) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) / sum(weight) OVER () AS lo
     FROM span WHERE weight > 0`,
    `CREATE TABLE sessions AS
     WITH draws AS (
       SELECT s, ${u('s', 10)} AS pick, ${u('s', 11)} AS day_draw, ${u('s', 12)} AS time_draw,
         ${u('s', 13)} AS length_draw, ${u('s', 14)} AS pace_draw, ${u('s', 15)} AS id_draw
       FROM range(${sessions}) t(s)
     )
     SELECT d.s, c.user_id, c.kind, c.breadth, c.feature_offset,
       CASE WHEN d.id_draw < ${spec.sessionIdShare} THEN 's' || d.s::VARCHAR END AS session_id,
       ${end} - INTERVAL 1 DAY * (c.last_days_ago + floor(
         CASE c.kind WHEN 'declining' THEN sqrt(d.day_draw) ELSE d.day_draw END * c.active_span)::INTEGER + 1)
         + INTERVAL 1 SECOND * (6 * 3600 + floor(d.time_draw * 16 * 3600)::INTEGER) AS start_ts,
       least(40, 1 + floor(-ln(1 - d.length_draw) * 4.2))::INTEGER AS n_events,
       (10 + floor(d.pace_draw * 170))::INTEGER AS pace_seconds
     FROM draws d ASOF JOIN cum c ON d.pick >= c.lo`,
    // Events of a session are strictly increasing in time: event k falls in [k * pace, (k + 1) * pace) seconds after the start.
    `CREATE TABLE events AS
     WITH raw AS (
       SELECT s.user_id, s.session_id, s.s, k,
         s.start_ts + INTERVAL 1 SECOND * (k * s.pace_seconds + floor(${u('s.s * 64 + k', 20)} * s.pace_seconds)::INTEGER) AS ts,
         ${u('s.s * 64 + k', 21)} AS kind_draw, ${u('s.s * 64 + k', 22)} AS feature_draw, s.breadth, s.feature_offset, s.kind
       FROM (SELECT *, unnest(range(n_events)) AS k FROM sessions) s
     )
     SELECT user_id,
       CASE
         WHEN k = 0 THEN 'login'
         WHEN kind_draw < 0.10 THEN 'page_view'
         WHEN kind_draw < (CASE kind WHEN 'power' THEN 0.13 ELSE 0.115 END) THEN 'pricing_page_view'
         WHEN kind_draw < 0.125 THEN 'locked_feature_click'
         WHEN kind_draw < (CASE kind WHEN 'declining' THEN 0.135 ELSE 0.127 END) THEN 'cancel_page_view'
         ELSE (${features})[1 + (feature_offset + floor(feature_draw * feature_draw * breadth)::INTEGER) % 15]
       END AS event,
       ts, session_id
     FROM raw
     WHERE ts < ${end}
     -- Distinct times per user keep the gap-based session split free of ties.
     QUALIFY row_number() OVER (PARTITION BY user_id, ts ORDER BY s, k) = 1`,
    `CREATE TABLE users AS
     SELECT user_id,
       ${end} - INTERVAL 1 DAY * (signup_days_ago + 1) + INTERVAL 1 SECOND * floor(${u('i', 30)} * 86400)::INTEGER AS signup_at,
       CASE
         WHEN ${u('i', 31)} < 0.02 THEN NULL
         WHEN ${u('i', 31)} < 0.40 THEN 'free' WHEN ${u('i', 31)} < 0.50 THEN 'trial'
         WHEN ${u('i', 31)} < 0.65 THEN 'starter' WHEN ${u('i', 31)} < 0.85 THEN 'pro'
         WHEN ${u('i', 31)} < 0.95 THEN 'business' ELSE 'enterprise' END AS plan,
       CASE WHEN ${u('i', 32)} < 0.2 THEN 'admin' WHEN ${u('i', 32)} < 0.5 THEN 'analyst' ELSE 'member' END AS role,
       'a' || lpad((i // 8)::VARCHAR, 6, '0') AS account_id,
       'Company ' || (i // 8)::VARCHAR AS company,
       (1 + floor(${u('i', 33)} * 50))::INTEGER AS seats
     FROM profile`,
    // Monthly charges for paid plans with a few failures, plus downgrades, upgrades and cancel-page visits.
    `CREATE TABLE billing AS
     WITH paid AS (SELECT p.i, u.user_id, u.plan FROM profile p JOIN users u USING (user_id)
                   WHERE u.plan IN ('starter', 'pro', 'business', 'enterprise'))
     SELECT user_id, ts, kind, amount, plan FROM (
       SELECT user_id, ${end} - INTERVAL 1 SECOND * floor((m * 30 + ${u('i * 8 + m', 40)} * 30) * 86400)::INTEGER AS ts,
         CASE WHEN ${u('i * 8 + m', 41)} < 0.05 THEN 'payment_failed' ELSE 'payment' END AS kind,
         CASE plan WHEN 'starter' THEN 19.0 WHEN 'pro' THEN 49.0 WHEN 'business' THEN 99.0 ELSE 499.0 END AS amount,
         plan
       FROM paid, range(4) r(m)
       UNION ALL
       SELECT user_id, ${end} - INTERVAL 1 SECOND * floor(${u('i', 42)} * 45 * 86400)::INTEGER,
         CASE WHEN ${u('i', 43)} < 0.4 THEN 'downgrade' WHEN ${u('i', 43)} < 0.7 THEN 'upgrade' ELSE 'cancel_page_view' END,
         NULL, plan
       FROM paid WHERE ${u('i', 44)} < 0.08
     )`,
    `CREATE TABLE support AS
     SELECT 'u' || lpad(floor(${u('t', 50)} * ${u('t', 50)} * ${spec.users})::BIGINT::VARCHAR, 7, '0') AS user_id,
       ${end} - INTERVAL 1 SECOND * floor(${u('t', 51)} * 60 * 86400)::INTEGER AS ts,
       't' || t::VARCHAR AS ticket_id,
       CASE WHEN ${u('t', 52)} < 0.2 THEN 'negative' WHEN ${u('t', 52)} < 0.65 THEN 'neutral' ELSE 'positive' END AS sentiment
     FROM range(${Math.max(1, Math.round(spec.users * 0.4))}) t(t)`,
  ];
}

function manifestPath(dir: string): string {
  return path.join(dir, 'manifest.json');
}

/** Returns the manifest of the files in `dir` when they were generated from the same spec by this generator version. */
export function currentManifest(dir: string, spec: WorkloadSpec): Manifest | undefined {
  if (!existsSync(manifestPath(dir))) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath(dir), 'utf8')) as Manifest;
  const same = manifest.version === GENERATOR_VERSION && JSON.stringify(manifest.spec) === JSON.stringify(spec);
  const complete = TABLES.every((t) => existsSync(path.join(dir, `${t}.parquet`)) && existsSync(path.join(dir, 'csv', `${t}.csv`)));
  return same && complete ? manifest : undefined;
}

/**
 * Writes users, events, billing and support as Parquet into `dir`, and as CSV into
 * `dir/csv` for pandas. Skips the work when the files already match the spec.
 */
export async function generateWorkload(dir: string, spec: WorkloadSpec): Promise<Manifest> {
  const existing = currentManifest(dir, spec);
  if (existing) return existing;

  const started = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'csv'), { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', { preserve_insertion_order: 'false' });
  const connection = await instance.connect();
  try {
    if (!Number.isInteger(spec.seed) || !(spec.sessionIdShare >= 0 && spec.sessionIdShare <= 1)) {
      throw new Error(`Invalid workload spec ${JSON.stringify(spec)}: the seed must be an integer and sessionIdShare in [0, 1].`);
    }
    for (const sql of generationSql(spec)) await connection.run(sql);
    const counts = {} as Record<BenchTable, number>;
    for (const table of TABLES) {
      const target = path.join(dir, `${table}.parquet`);
      // Sorted by time, as an analytics export usually is.
      const order = table === 'users' ? 'user_id' : 'ts, user_id';
      await connection.run(`COPY (SELECT * FROM ${table} ORDER BY ${order}) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`);
      await connection.run(
        `COPY (SELECT * FROM read_parquet('${target}')) TO '${path.join(dir, 'csv', `${table}.csv`)}' (FORMAT csv, HEADER, TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S')`,
      );
      const reader = await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS n FROM ${table}`);
      counts[table] = Number(reader.getRows()[0][0]);
    }
    const manifest: Manifest = {
      version: GENERATOR_VERSION,
      spec,
      lastDay: LAST_DAY,
      counts,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    writeFileSync(manifestPath(dir), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export function specFor(size: SizeName, seed = DEFAULT_SEED, sessionIdShare = 1): WorkloadSpec {
  return { ...SIZES[size], seed, sessionIdShare };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const size = (args.size ?? 'quick') as SizeName;
  if (!(size in SIZES)) throw new Error(`Unknown size "${size}". Use one of: ${Object.keys(SIZES).join(', ')}.`);
  const manifest = await generateWorkload(benchDataDir(size), specFor(size, Number(args.seed ?? DEFAULT_SEED)));
  process.stdout.write(`${JSON.stringify(manifest)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`generate failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
