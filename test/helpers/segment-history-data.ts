import { Workspace } from '../../src/workspace/index.js';

/**
 * About 60 users over 20 weeks with mixed habits: daily users, users who fade out, users
 * who come back, users who sign up late, users known only from the users file, and users
 * with a few events only. The events are generated in SQL from a hash, so the data is the
 * same on every run.
 */
export async function openHistoryWorkspace(): Promise<Workspace> {
  const ws = await Workspace.open({ path: ':memory:' });
  await ws.run(`CREATE TABLE events (user_id VARCHAR NOT NULL, event VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
    session_id VARCHAR, account_id VARCHAR, properties JSON)`);
  await ws.run(`CREATE TABLE users (user_id VARCHAR NOT NULL, signup_at TIMESTAMP, plan VARCHAR, role VARCHAR,
    account_id VARCHAR, company VARCHAR, company_size INTEGER, industry VARCHAR, country VARCHAR, seats INTEGER, properties JSON)`);
  await ws.run(`
    INSERT INTO events (user_id, event, ts)
    WITH users AS (SELECT i, 'u' || lpad(i::VARCHAR, 2, '0') AS user_id, i % 6 AS habit FROM range(1, 61) t(i)),
    days AS (SELECT d FROM range(0, 140) t(d)),
    active AS (
      SELECT u.user_id, u.i, u.habit, d.d
      FROM users u CROSS JOIN days d
      WHERE CASE u.habit
        WHEN 0 THEN hash(u.i, d.d) % 10 < 8                             -- almost daily
        WHEN 1 THEN d.d < 70 AND hash(u.i, d.d) % 10 < 6                -- fades out mid-way
        WHEN 2 THEN (d.d < 40 OR d.d > 100) AND hash(u.i, d.d) % 10 < 4 -- leaves, then returns
        WHEN 3 THEN d.d > 60 + u.i AND hash(u.i, d.d) % 10 < 5          -- starts late
        WHEN 4 THEN hash(u.i, d.d) % 10 < 2                             -- casual
        ELSE hash(u.i, d.d) % 40 = 0                                    -- rare
      END
    ),
    sessions AS (SELECT a.*, s.s FROM active a CROSS JOIN range(0, 1 + CAST(hash(a.i, a.d, 7) % 3 AS INTEGER)) s(s))
    SELECT user_id,
      CASE WHEN hash(i, d, s, 1) % 4 = 0 THEN 'login'
        ELSE 'feature_' || chr(97 + CAST(hash(i, d, s, 2) % (3 + habit) AS INTEGER)) END,
      TIMESTAMP '2024-01-01 08:00:00' + to_days(CAST(d AS INTEGER)) + to_hours(CAST(s * 3 AS INTEGER))
    FROM sessions`);
  await ws.run(`
    INSERT INTO users (user_id, signup_at, plan)
    SELECT 'u' || lpad(i::VARCHAR, 2, '0'),
      CASE WHEN i % 5 = 0 THEN NULL ELSE TIMESTAMP '2023-12-20 10:00:00' + to_days(CAST(i * 2 AS INTEGER)) END,
      CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END
    FROM range(1, 56) t(i)`);
  // Known from the users file only: never active.
  await ws.run(`INSERT INTO users (user_id, signup_at, plan) VALUES ('ghost', TIMESTAMP '2024-02-01 00:00:00', 'free')`);
  return ws;
}

