import { Workspace } from '../../src/workspace/index.js';

/** Opens an in-memory workspace with the canonical tables created empty. */
export async function openTestWorkspace(): Promise<Workspace> {
  const ws = await Workspace.open({ path: ':memory:' });
  await ws.run(`CREATE TABLE events (user_id VARCHAR NOT NULL, event VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
    session_id VARCHAR, account_id VARCHAR, properties JSON)`);
  return ws;
}

export interface EventRow {
  readonly user: string;
  readonly event: string;
  /** UTC timestamp, 'YYYY-MM-DD HH:MM:SS'. */
  readonly ts: string;
  readonly session?: string;
}

/** Inserts events row by row; tests use a handful of rows, so one statement each is fine. */
export async function insertEvents(ws: Workspace, rows: readonly EventRow[]): Promise<void> {
  for (const row of rows) {
    await ws.run('INSERT INTO events (user_id, event, ts, session_id) VALUES ($1, $2, CAST($3 AS TIMESTAMP), $4)', [
      row.user,
      row.event,
      row.ts,
      row.session ?? null,
    ]);
  }
}

export async function createUsers(
  ws: Workspace,
  rows: readonly { user: string; signup: string | null; plan?: string | null }[],
): Promise<void> {
  await ws.run(`CREATE TABLE users (user_id VARCHAR NOT NULL, signup_at TIMESTAMP, plan VARCHAR, role VARCHAR,
    account_id VARCHAR, company VARCHAR, company_size INTEGER, industry VARCHAR, country VARCHAR, seats INTEGER, properties JSON)`);
  for (const row of rows) {
    await ws.run('INSERT INTO users (user_id, signup_at, plan) VALUES ($1, CAST($2 AS TIMESTAMP), $3)', [
      row.user,
      row.signup,
      row.plan ?? null,
    ]);
  }
}

/** Inserts billing rows (creating the canonical table when needed). */
export async function insertBilling(
  ws: Workspace,
  rows: readonly { user: string; ts: string; kind: string; amount?: number | null; plan?: string | null }[],
): Promise<void> {
  await ws.run(`CREATE TABLE IF NOT EXISTS billing (user_id VARCHAR, account_id VARCHAR, ts TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL, amount DOUBLE, plan VARCHAR, properties JSON)`);
  for (const row of rows) {
    await ws.run('INSERT INTO billing (user_id, ts, kind, amount, plan) VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5)', [
      row.user,
      row.ts,
      row.kind,
      row.amount ?? null,
      row.plan ?? null,
    ]);
  }
}

/** Inserts one session per listed day: the given events at the given UTC times (HH:MM) of that day. */
export async function insertDailySessions(
  ws: Workspace,
  user: string,
  days: readonly string[],
  steps: readonly { at: string; event: string }[],
): Promise<void> {
  const rows: EventRow[] = [];
  for (const day of days) for (const step of steps) rows.push({ user, event: step.event, ts: `${day} ${step.at}:00` });
  await insertEvents(ws, rows);
}

/** Lists the calendar days from `first` to `last`, both included (YYYY-MM-DD). */
export function dayRange(first: string, last: string): string[] {
  const days: string[] = [];
  const current = new Date(`${first}T00:00:00Z`);
  const end = new Date(`${last}T00:00:00Z`);
  while (current <= end) {
    days.push(current.toISOString().slice(0, 10));
    current.setUTCDate(current.getUTCDate() + 1);
  }
  return days;
}
