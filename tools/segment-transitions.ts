import { z } from 'zod';
import { PERIODS, WEEK_DAYS, segmentTransitions } from '../src/segments/index.js';
import { periodArgument, weekStartArgument } from './backfill-history.js';
import { snapshotPeriodSchema } from './segment-history.js';
import { defineTool } from './tool.js';

export const segmentTransitionsTool = defineTool({
  name: 'segment_transitions',
  title: 'Segment transitions',
  description:
    'The from -> to matrix of behavioural segments between two snapshot periods (default: the last two), as user counts ' +
    'and shares of each row. Users absent or never active at the first date form the "(new)" row; users absent or never ' +
    'active, or dormant, at the second form the "(churned)" column. Snapshots are backfilled on first use. Use it for ' +
    '"where did last week\'s power users go?". Pass segments (rule segment names, in priority order) to compare rule ' +
    'segments instead: they may overlap, so each user counts in the first listed segment that contains them, else "(none)". ' +
    'Rule segments that read scores have no history and cannot be compared.',
  inputSchema: {
    period: periodArgument,
    weekStart: weekStartArgument,
    from: z.string().max(20).optional().describe('Period key of the first snapshot, e.g. 2024-W05; default the second-to-last.'),
    to: z.string().max(20).optional().describe('Period key of the second snapshot; default the last.'),
    segments: z
      .array(z.string())
      .max(20)
      .optional()
      .describe('Rule segment names in priority order, instead of the behavioural segments; "(churned)" is then not used.'),
  },
  outputSchema: {
    period: z.enum(PERIODS).describe('Snapshot period compared.'),
    weekStart: z.enum(WEEK_DAYS).describe('First day of each week bucket.'),
    backfilledNow: z.boolean().describe('Whether this call computed the snapshots.'),
    from: snapshotPeriodSchema.describe('The first snapshot.'),
    to: snapshotPeriodSchema.describe('The second snapshot.'),
    rows: z.array(z.string()).describe('Row states: segments and (new).'),
    columns: z.array(z.string()).describe('Column states: segments and (churned).'),
    cells: z
      .array(z.object({ from: z.string(), to: z.string(), users: z.number(), rowShare: z.number().describe('Share of the row, 0-1.') }))
      .describe('Non-empty cells.'),
    rowTotals: z.record(z.string(), z.number()).describe('Users per row state.'),
    newUsers: z.number().describe('Users in the (new) row.'),
    churnedUsers: z.number().describe('Users who moved into (churned) from any row but dormant.'),
    stayed: z.number().describe('Users in the same segment at both dates.'),
    neverActive: z.number().describe('Users without any event at either date, left out of the matrix.'),
    warnings: z.array(z.string()).describe('Rows with fewer than 100 users.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args, progress) {
    const result = await segmentTransitions(ws, args, progress);
    const moves = result.cells
      .filter((cell) => cell.from !== cell.to)
      .sort((a, b) => b.users - a.users)
      .slice(0, 10)
      .map((cell) => `- ${cell.from} -> ${cell.to}: ${cell.users} (${(cell.rowShare * 100).toFixed(0)}% of ${cell.from})`);
    return {
      summary: [
        `${result.from.periodKey} -> ${result.to.periodKey}: ${result.stayed} stayed, ${result.newUsers} new, ${result.churnedUsers} churned.`,
        'Largest moves:',
        ...moves,
        ...result.warnings,
      ].join('\n'),
      structured: result,
    };
  },
});
