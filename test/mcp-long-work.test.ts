import path from 'node:path';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Workspace } from '../src/workspace/index.js';
import { startHarness, textOf, type McpHarness } from './helpers/mcp.js';

const EVENT_ROWS = 3_000_000;
const USERS = 30_000;

let harness: McpHarness;
let eventsFile: string;

/** Writes EVENT_ROWS synthetic events over 180 days to a Parquet file with DuckDB alone. */
async function generateEvents(file: string): Promise<void> {
  const generator = await Workspace.open({ path: ':memory:' });
  try {
    await generator.run(`
      COPY (
        SELECT 'u' || lpad((i % ${USERS})::VARCHAR, 6, '0') AS user_id,
               ['login', 'view_report', 'edit_doc', 'share', 'export', 'invite', 'comment'][(i * 7) % 7 + 1] AS event,
               TIMESTAMP '2026-01-01 00:00:00' + to_seconds((i * 104729) % (180 * 86400)) AS timestamp
        FROM range(${EVENT_ROWS}) AS t(i)
      ) TO '${file.replaceAll("'", "''")}' (FORMAT parquet)`);
  } finally {
    generator.close();
  }
}

interface Snapshot {
  readonly rows: number;
  readonly checksum: string;
}

async function scoresSnapshot(): Promise<Snapshot> {
  const row = await harness.ws.queryOne<{ rows: number; checksum: string }>(
    `SELECT count(*) AS rows,
            sum(hash(user_id, engagement_score, churn_risk_score, behavioral_segment, at_risk))::VARCHAR AS checksum
     FROM user_scores`,
  );
  return { rows: row!.rows, checksum: row!.checksum };
}

async function callWithProgress(
  name: string,
  args: Record<string, unknown>,
  options: { signal?: AbortSignal; onFirstProgress?: () => void } = {},
): Promise<{ result: CallToolResult; progress: Progress[] }> {
  const progress: Progress[] = [];
  const result = (await harness.client.callTool({ name, arguments: args }, CallToolResultSchema, {
    signal: options.signal,
    timeout: 600_000,
    onprogress: (update) => {
      progress.push(update);
      if (progress.length === 1) options.onFirstProgress?.();
    },
  })) as CallToolResult;
  return { result, progress };
}

beforeAll(async () => {
  harness = await startHarness();
  eventsFile = path.join(harness.dir, 'events.parquet');
  await generateEvents(eventsFile);
});

afterAll(async () => {
  await harness.close();
});

describe('long work', () => {
  test('load_data sends progress notifications', async () => {
    const { result, progress } = await callWithProgress('load_data', { table: 'events', path: eventsFile });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect((result.structuredContent as { rowsLoaded: number }).rowsLoaded).toBe(EVENT_ROWS);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++) expect(progress[i].progress).toBeGreaterThanOrEqual(progress[i - 1].progress);
    expect(progress.some((update) => typeof update.message === 'string')).toBe(true);
  });

  test('compute_scores sends progress notifications', async () => {
    const { result, progress } = await callWithProgress('compute_scores', {});
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const last = progress[progress.length - 1];
    expect(last.total).toBeDefined();
    expect(last.progress).toBe(last.total);
  });

  test('backfill_history sends progress notifications', async (context) => {
    const tools = (await harness.client.listTools()).tools.map((tool) => tool.name);
    if (!tools.includes('backfill_history')) context.skip();
    const { result, progress } = await callWithProgress('backfill_history', {});
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(progress.length).toBeGreaterThanOrEqual(1);
  });

  test('no progress notification without a token', async () => {
    const result = (await harness.client.callTool({ name: 'describe_data', arguments: {} })) as CallToolResult;
    expect(result.isError).toBeFalsy();
  });

  test('cancelled compute_scores stops promptly and keeps the scores', async () => {
    const before = await scoresSnapshot();
    expect(before.rows).toBe(USERS);

    const fullStarted = Date.now();
    const full = await harness.call('compute_scores', {});
    expect(full.isError, textOf(full)).toBeFalsy();
    const fullMs = Date.now() - fullStarted;
    expect(await scoresSnapshot()).toEqual(before);

    const controller = new AbortController();
    let abortedAt = 0;
    const cancelled = callWithProgress(
      'compute_scores',
      { asOf: '2026-04-15' },
      {
        signal: controller.signal,
        onFirstProgress: () =>
          setTimeout(() => {
            abortedAt = Date.now();
            controller.abort('test cancels the scoring run');
          }, 150),
      },
    );
    await expect(cancelled).rejects.toThrow();

    // save_diagnostic_answers waits for the workspace lock and does little else, so it returns
    // as soon as the cancelled run has stopped.
    const followUp = await harness.call('save_diagnostic_answers', { answers: {} });
    const stoppedMs = Date.now() - abortedAt;
    expect(followUp.isError, textOf(followUp)).toBeFalsy();
    // Relative to a full run on the same machine, so that a loaded CI machine does not fail it:
    // the cancelled run must end well before the work it was asked to do could have finished.
    expect(stoppedMs).toBeLessThan(Math.max(1_500, fullMs * 0.8));

    expect(await scoresSnapshot()).toEqual(before);
    const run = await harness.ws.getMeta<{ asOf: string }>('scoring');
    expect(run?.asOf).not.toBe('2026-04-15');
  });
});
