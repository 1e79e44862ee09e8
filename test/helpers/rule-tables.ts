import { ATTRIBUTES, CONSTANTS, type AttributeEntry } from '../../src/rules/catalog.js';
import { Workspace, quoteIdent } from '../../src/workspace/index.js';

/** The as-of boundary of the hand-made tables: a Monday, so the last day (T - 1) is Sunday 2024-03-10. */
export const AS_OF = '2024-03-11';

/** One event: user, event name, local date, session key. */
export type FactRow = readonly [user: string, event: string, date: string, session: string];

export interface UserRow {
  readonly id: string;
  readonly plan: string | null;
  readonly role?: string;
  readonly signup: string | null;
  readonly seats?: number;
  readonly country?: string;
}

export interface ScoreRow {
  readonly id: string;
  readonly engagement: number | null;
  readonly engagementTier?: string;
  readonly churnRisk?: number;
  readonly atRisk?: boolean;
  readonly percentageOfLimit?: number | null;
  readonly lifecycle?: string;
}

/**
 * Creates `event_facts`, `sessions`, `users`, `user_metrics` and `user_scores` with the
 * columns the rule compiler reads, and fills them from the rows given. `user_metrics`
 * gets one row per user, with day counts computed from the facts and `AS_OF`.
 */
export async function createRuleTables(
  ws: Workspace,
  data: {
    facts: readonly FactRow[];
    users: readonly UserRow[];
    scores?: readonly ScoreRow[];
    totalFeatures?: number;
    /** Values of other user_metrics columns by user, e.g. `{ u1: { invites_total: 3 } }`. */
    metrics?: Record<string, Record<string, number | string | boolean | null>>;
  },
): Promise<void> {
  await ws.run(`CREATE OR REPLACE TABLE event_facts (user_id VARCHAR, event VARCHAR, ts TIMESTAMP, local_ts TIMESTAMP,
    local_date DATE, session_key VARCHAR)`);
  await ws.run(`CREATE OR REPLACE TABLE users (user_id VARCHAR, signup_at TIMESTAMP, plan VARCHAR, role VARCHAR,
    account_id VARCHAR, company VARCHAR, company_size INTEGER, industry VARCHAR, country VARCHAR, seats INTEGER)`);
  await ws.run(`CREATE OR REPLACE TABLE user_scores (user_id VARCHAR, engagement_score DOUBLE, engagement_tier VARCHAR,
    activation_score DOUBLE, activation_tier VARCHAR, expansion_score DOUBLE, expansion_tier VARCHAR,
    churn_risk_score DOUBLE, churn_risk_tier VARCHAR, rfm_r INTEGER, rfm_f INTEGER, rfm_m INTEGER, rfm_code VARCHAR,
    rfm_segment VARCHAR, behavioral_segment VARCHAR, lifecycle_stage VARCHAR, at_risk BOOLEAN,
    at_risk_signal_count INTEGER, plan_value DOUBLE, percentage_of_limit DOUBLE)`);

  for (const [user, event, date, session] of data.facts) {
    await ws.run(
      `INSERT INTO event_facts VALUES ($1, $2, CAST($3 AS TIMESTAMP), CAST($3 AS TIMESTAMP), CAST($3 AS DATE), $4)`,
      [user, event, `${date} 12:00:00`, session],
    );
  }
  for (const user of data.users) {
    await ws.run(
      `INSERT INTO users (user_id, signup_at, plan, role, account_id, country, seats)
       VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5, $6, $7)`,
      [user.id, user.signup, user.plan, user.role ?? null, `acct-${user.id}`, user.country ?? null, user.seats ?? null],
    );
  }
  for (const score of data.scores ?? []) {
    await ws.run(
      `INSERT INTO user_scores (user_id, engagement_score, engagement_tier, churn_risk_score, at_risk, percentage_of_limit, lifecycle_stage)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [score.id, score.engagement, score.engagementTier ?? null, score.churnRisk ?? null, score.atRisk ?? null,
        score.percentageOfLimit ?? null, score.lifecycle ?? null],
    );
  }

  await ws.run(
    `CREATE OR REPLACE TABLE sessions AS
     SELECT user_id, session_key, min(ts) AS start_ts, max(ts) AS end_ts, min(local_date) AS local_date,
            count(*) AS event_count, 0.0 AS duration_minutes
     FROM event_facts GROUP BY user_id, session_key`,
  );
  await ws.run(
    `CREATE OR REPLACE TABLE user_metrics AS
     WITH population AS (SELECT user_id FROM users UNION SELECT user_id FROM event_facts),
     activity AS (SELECT user_id, min(local_date) AS first_day, max(local_date) AS last_day FROM event_facts GROUP BY user_id)
     SELECT p.user_id,
            coalesce(CAST(u.signup_at AS DATE), a.first_day) AS signup_date,
            (CAST($1 AS DATE) - 1) - coalesce(CAST(u.signup_at AS DATE), a.first_day) AS days_since_signup,
            (CAST($1 AS DATE) - 1) - a.last_day AS days_since_last_active,
            CAST($2 AS INTEGER) AS total_features
     FROM population p
     LEFT JOIN users u ON u.user_id = p.user_id
     LEFT JOIN activity a ON a.user_id = p.user_id`,
    [AS_OF, data.totalFeatures ?? 10],
  );
  await addCatalogueColumns(ws);
  for (const [user, values] of Object.entries(data.metrics ?? {})) {
    for (const [column, value] of Object.entries(values)) {
      await ws.run(`UPDATE user_metrics SET ${quoteIdent(column)} = $1 WHERE user_id = $2`, [value, user]);
    }
  }
}

const SQL_TYPES = { number: 'DOUBLE', string: 'VARCHAR', boolean: 'BOOLEAN', date: 'DATE' } as const;

/** Adds every user_metrics column the catalogue names and the table lacks, filled with NULL. */
async function addCatalogueColumns(ws: Workspace): Promise<void> {
  const existing = new Set(
    (await ws.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'user_metrics'",
    )).map((row) => row.column_name),
  );
  const entries: AttributeEntry[] = [...Object.values(ATTRIBUTES).flatMap((ns) => Object.values(ns)), ...Object.values(CONSTANTS)];
  for (const entry of entries) {
    if (entry.table !== 'user_metrics' || existing.has(entry.column)) continue;
    await ws.run(`ALTER TABLE user_metrics ADD COLUMN ${quoteIdent(entry.column)} ${SQL_TYPES[entry.type]}`);
    existing.add(entry.column);
  }
}

/** Runs a compiled segment and returns its member ids. */
export async function members(ws: Workspace, compiled: { sql: string; params: unknown[] }): Promise<string[]> {
  const rows = await ws.query<{ user_id: string }>(compiled.sql, compiled.params as never);
  return rows.map((row) => row.user_id);
}

/** `count` daily events named `event` for `user`, one session per day, on the `days` days ending `daysBefore` days before T. */
export function dailyFacts(user: string, event: string, days: number, daysBefore = 1): FactRow[] {
  const rows: FactRow[] = [];
  for (let i = 0; i < days; i++) {
    const date = shiftDate(AS_OF, -(daysBefore + i));
    rows.push([user, event, date, `${user}-${date}`]);
  }
  return rows;
}

/** Adds `days` (possibly negative) to an ISO date. */
export function shiftDate(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export async function openRuleWorkspace(): Promise<Workspace> {
  return Workspace.open({ path: ':memory:' });
}
