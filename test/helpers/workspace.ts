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
