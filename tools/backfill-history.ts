import { z } from 'zod';
import { MAX_PERIODS, PERIODS, WEEK_DAYS, backfillHistory } from '../src/segments/index.js';
import { defineTool } from './tool.js';

export const periodArgument = z.enum(PERIODS).optional().describe('Snapshot period: week (default) or month.');
export const weekStartArgument = z
  .enum(WEEK_DAYS)
  .optional()
  .describe('First day of a week bucket, e.g. monday (default, ISO weeks) or sunday. Ignored for months.');

export const backfillHistoryTool = defineTool({
  name: 'backfill_history',
  title: 'Backfill segment history',
  description:
    'Compute the behavioural segment (power, regular, casual, at_risk, dormant, new, inactive) of every user at the end ' +
    'of every week or month of the loaded data, in one set-based pass, and store the snapshots for segment_history and ' +
    'segment_transitions. Also stores the members of every built-in and saved rule segment at each date, except segments ' +
    'that read scores.* or usage metrics kept only for the current day (listed in skippedSegments with the reason). Those two tools run it on their own when no up-to-date snapshots exist, so run it directly ' +
    'only to change the period or the week start, after load_data. Replaces earlier snapshots of the same period in one transaction; ' +
    `cancellable. Weeks are keyed by ISO week-year, e.g. 2024-W01; at most ${MAX_PERIODS} periods.`,
  inputSchema: { period: periodArgument, weekStart: weekStartArgument },
  outputSchema: {
    period: z.enum(PERIODS).describe('Snapshot period used.'),
    weekStart: z.enum(WEEK_DAYS).describe('First day of each week bucket.'),
    periods: z.number().describe('Snapshot periods computed.'),
    firstPeriod: z.string().describe('Key of the first period, e.g. 2024-W01 or 2024-01.'),
    lastPeriod: z.string().describe('Key of the last period; it ends at the last data day.'),
    rows: z.number().describe('Snapshot rows stored: one per known user per period.'),
    segments: z.array(z.string()).describe('Behavioural segments the snapshots assign.'),
    ruleSegments: z.array(z.string()).describe('Rule segments whose members were stored at every period.'),
    ruleRows: z.number().describe('Rule segment rows stored: one per member per period.'),
    skippedSegments: z
      .array(z.object({ segment: z.string(), reason: z.string() }))
      .describe('Rule segments without history, each with the reason.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args, progress) {
    const result = await backfillHistory(ws, { period: args.period, weekStart: args.weekStart }, progress);
    return {
      summary: `Stored ${result.periods} ${result.period}ly snapshots, ${result.firstPeriod} to ${result.lastPeriod} (${result.rows} rows).`,
      structured: {
        ...result,
        segments: [...result.segments],
        ruleSegments: [...result.ruleSegments],
        skippedSegments: result.skippedSegments.map((entry) => ({ ...entry })),
      },
    };
  },
});
