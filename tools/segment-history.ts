import { z } from 'zod';
import { PERIODS, WEEK_DAYS, segmentHistory } from '../src/segments/index.js';
import { periodArgument, weekStartArgument } from './backfill-history.js';
import { defineTool } from './tool.js';

export const snapshotPeriodSchema = z.object({
  periodKey: z.string().describe('2024-W01 for weeks, 2024-01 for months.'),
  periodStart: z.string(),
  asOf: z.string().describe('Last day included in the snapshot.'),
  partial: z.boolean().describe('True when the data ends before the period does.'),
});

export const segmentHistoryTool = defineTool({
  name: 'segment_history',
  title: 'Segment sizes over time',
  description:
    'Sizes of the behavioural segments at every week or month of the data, from snapshots computed over the whole ' +
    'history (backfilled on first use, so it works right after load_data). Name built-in or saved rule segments in ' +
    'segments to get their sizes too; rule segments that read scores.* or usage metrics kept only for the current day ' +
    'have no history and come back in withoutHistory with the reason. Also lists the sizes of rule segments at ' +
    'each date they were evaluated. Use it for trends ("is at_risk growing?"); for who moved where, use segment_transitions.',
  inputSchema: {
    period: periodArgument,
    weekStart: weekStartArgument,
    segments: z
      .array(z.string())
      .max(20)
      .optional()
      .describe('Behavioural segment ids or rule segment names to report; default every behavioural segment.'),
    from: z.string().max(20).optional().describe('First period key to include, e.g. 2024-W05.'),
    to: z.string().max(20).optional().describe('Last period key to include.'),
  },
  outputSchema: {
    period: z.enum(PERIODS).describe('Snapshot period of the series.'),
    weekStart: z.enum(WEEK_DAYS).describe('First day of each week bucket.'),
    backfilledNow: z.boolean().describe('Whether this call computed the snapshots.'),
    periods: z.array(snapshotPeriodSchema).describe('Snapshot periods, oldest first.'),
    series: z.array(
      z.object({
        segment: z.string(),
        kind: z.enum(['behavioral', 'builtin', 'saved']).describe('Behavioural segment, or built-in or saved rule segment.'),
        sizes: z.array(z.number()).describe('Members at each period, aligned with periods.'),
        warning: z.string().optional(),
      }),
    ).describe('Per requested segment, its size at each period.'),
    evaluations: z
      .array(z.object({ segment: z.string(), asOf: z.string(), size: z.number() }))
      .describe('Rule segment sizes at each evaluated as-of date.'),
    ruleSegmentsWithHistory: z.array(z.string()).describe('Rule segments with sizes at every period; name them in segments.'),
    withoutHistory: z
      .array(z.object({ segment: z.string(), reason: z.string() }))
      .describe('Requested rule segments without history, each with the reason.'),
    warnings: z.array(z.string()).describe('Segments with fewer than 100 members in some periods.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args, progress) {
    const result = await segmentHistory(ws, args, progress);
    const last = result.periods.length - 1;
    const lines = result.series.map((series) => {
      const first = series.sizes[0] ?? 0;
      const now = series.sizes[last] ?? 0;
      return `- ${series.segment}: ${first} -> ${now}`;
    });
    const range = result.periods.length > 0 ? `${result.periods[0].periodKey} to ${result.periods[last].periodKey}` : 'no periods';
    return {
      summary: `${result.periods.length} ${result.period}s (${range}), first -> last size:\n${lines.join('\n')}`,
      structured: result,
    };
  },
});
