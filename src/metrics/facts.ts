import { createHash } from 'node:crypto';
import { quoteLiteral, type Workspace } from '../workspace/index.js';

/**
 * Builds `event_facts` (every event with its local time, local date and session key)
 * and `sessions` from `events`. Both depend only on the events, the time zone and the
 * session gap, not on the as-of boundary, so they are rebuilt only when one of those
 * changes.
 *
 * Sessions: an event's `session_id` wins when present; otherwise a new session starts
 * when more than `gapMinutes` passed since the user's previous event. Session length is
 * the time from its first to its last event, so a one-event session lasts 0 minutes.
 */
export async function buildEventFacts(ws: Workspace, timeZone: string, gapMinutes: number): Promise<boolean> {
  const loadInfo = await ws.getMeta<unknown>('load:events');
  const version = createHash('sha256')
    .update(JSON.stringify({ loadInfo, timeZone, gapMinutes, format: 2 }))
    .digest('hex');
  const current = await ws.getMeta<string>('facts_version');
  if (current === version && (await ws.tableExists('sessions'))) return false;

  const localTs = localTimestampSql(timeZone, 'ts');
  const gap = Math.round(gapMinutes * 60);
  // Sessions split by time need two window passes over every event; when every event
  // carries a session_id (the usual case for analytics exports) the key needs neither.
  const gapSplit = await ws.queryOne<{ any: boolean | null }>('SELECT bool_or(session_id IS NULL) AS any FROM events');
  const sessionKey =
    gapSplit?.any === true
      ? `CASE
          WHEN session_id IS NOT NULL THEN 's:' || session_id
          ELSE 'g:' || sum(starts_session) OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING)
        END`
      : `'s:' || session_id`;
  const startsSession =
    gapSplit?.any === true
      ? `CASE
          WHEN session_id IS NOT NULL THEN 0
          WHEN date_diff('second', lag(ts) OVER (PARTITION BY user_id ORDER BY ts), ts) <= ${gap} THEN 0
          ELSE 1
        END`
      : '0';
  await ws.run(`
    CREATE OR REPLACE TABLE event_facts AS
    WITH ordered AS (
      SELECT user_id, event, ts, session_id, ${startsSession} AS starts_session
      FROM events
    )
    SELECT
      user_id,
      event,
      ts,
      ${localTs} AS local_ts,
      CAST(${localTs} AS DATE) AS local_date,
      ${sessionKey} AS session_key
    FROM ordered
  `);
  await ws.run(`
    CREATE OR REPLACE TABLE sessions AS
    SELECT
      user_id,
      session_key,
      min(ts) AS start_ts,
      max(ts) AS end_ts,
      min(local_date) AS local_date,
      count(*)::INTEGER AS event_count,
      date_diff('second', min(ts), max(ts)) / 60.0 AS duration_minutes
    FROM event_facts
    GROUP BY user_id, session_key
  `);
  await ws.setMeta('facts_version', version);
  return true;
}

/**
 * SQL for the local wall-clock time of a naive UTC timestamp column in `timeZone`. For
 * UTC the column itself is the answer, which spares DuckDB two time-zone conversions per
 * row. The zone name is checked by parseSettings and escaped here, because DDL takes no
 * parameters for it.
 */
export function localTimestampSql(timeZone: string, column: string): string {
  if (timeZone === 'UTC') return column;
  const zone = quoteLiteral(timeZone);
  return `timezone(${zone}, timezone('UTC', ${column}))`;
}
