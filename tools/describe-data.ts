import { z } from 'zod';
import { describeTables } from '../src/ingest/index.js';
import type { ScoringRun } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

export const describeDataTool = defineTool({
  name: 'describe_data',
  title: 'Describe the loaded data',
  description:
    'Show what the workspace holds: for each canonical table (events, users, billing, support, nps) the row count, ' +
    'columns, date range, distinct users and the last load report; and, once scores exist, which score components ' +
    'can and cannot be computed with this data and which file would fill each gap. Use it after load_data and ' +
    'before compute_scores. It reads no files and changes nothing.',
  inputSchema: {},
  outputSchema: {
    tables: z.array(
      z.object({
        table: z.string(),
        loaded: z.boolean(),
        rows: z.number(),
        columns: z.array(z.object({ name: z.string(), type: z.string() })),
        dateRange: z.object({ min: z.string(), max: z.string() }).nullable(),
        distinctUsers: z.number().nullable(),
      }),
    ),
    inputs: z
      .record(z.string(), z.object({ available: z.boolean(), detail: z.string() }))
      .nullable()
      .describe('Inputs of the scoring models as of the last compute_scores run; null before the first run.'),
    models: z
      .record(z.string(), z.object({ missingComponents: z.array(z.string()), totalRule: z.string() }))
      .nullable()
      .describe('Per model, the components that cannot be computed and how the total is formed.'),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  async handler({ ws }) {
    const tables = await describeTables(ws);
    const run = (await ws.getMeta<ScoringRun>('scoring')) ?? null;
    const loaded = tables.filter((t) => t.loaded && t.rows > 0);
    const lines = loaded.map(
      (t) =>
        `${t.table}: ${t.rows} rows${t.distinctUsers !== null ? `, ${t.distinctUsers} users` : ''}` +
        `${t.dateRange ? `, ${t.dateRange.min.slice(0, 10)} to ${t.dateRange.max.slice(0, 10)}` : ''}`,
    );
    const notLoaded = tables.filter((t) => !t.loaded || t.rows === 0).map((t) => t.table);
    const gaps = run ? Object.values(run.inputs).filter((i) => !i.available).map((i) => i.detail) : [];
    const summary = [
      loaded.length > 0 ? lines.join('\n') : 'Nothing is loaded yet: call load_data with an events file.',
      notLoaded.length > 0 ? `Not loaded: ${notLoaded.join(', ')}.` : '',
      gaps.length > 0 ? `Gaps in the scoring inputs:\n- ${gaps.join('\n- ')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    return {
      summary,
      structured: {
        tables: tables.map(({ loadReport: _loadReport, ...rest }) => rest),
        inputs: run?.inputs ?? null,
        models: run?.models ?? null,
      },
    };
  },
});
