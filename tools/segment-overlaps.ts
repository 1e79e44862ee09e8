import { z } from 'zod';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, segmentOverlaps } from '../src/segments/index.js';
import { defineTool } from './tool.js';

export const segmentOverlapsTool = defineTool({
  name: 'segment_overlaps',
  title: 'Segment overlaps',
  description:
    'List pairs of rule segments (built-in and saved) that share members at the last evaluation, largest overlap first, ' +
    'with each size and the overlap as a share of the smaller segment (1 means it lies inside the other). Use it to find ' +
    'redundant or conflicting segments before messaging them. Requires compute_scores; evaluates segments when stale. ' +
    'Only pairs with at least one shared member are listed.',
  inputSchema: {
    minShare: z.number().min(0).max(1).optional().describe('Keep pairs whose overlap is at least this share of the smaller segment, 0-1; default 0.'),
    limit: z.number().int().min(1).max(LIST_MAX_LIMIT).optional().describe(`Pairs per page, 1-${LIST_MAX_LIMIT}; default ${LIST_DEFAULT_LIMIT}.`),
    cursor: z.string().max(500).optional().describe('nextCursor from the previous page of the same query.'),
  },
  outputSchema: {
    asOf: z.string().describe('Last day included in the scores of the evaluation.'),
    total: z.number().describe('Pairs over all pages.'),
    overlaps: z.array(
      z.object({
        first: z.string(),
        second: z.string(),
        users: z.number().describe('Users in both segments.'),
        firstSize: z.number(),
        secondSize: z.number(),
        shareOfSmaller: z.number().describe('users divided by the smaller size, 0-1.'),
        warning: z.string().optional(),
      }),
    ).describe('This page of pairs, largest overlap first.'),
    nextCursor: z.string().optional().describe('Pass as cursor to get the next page; absent on the last page.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args) {
    const result = await segmentOverlaps(ws, { minShare: args.minShare, limit: args.limit, cursor: args.cursor });
    const lines = result.overlaps
      .slice(0, 15)
      .map((o) => `- ${o.first} & ${o.second}: ${o.users} users (${(o.shareOfSmaller * 100).toFixed(0)}% of the smaller)`);
    return { summary: `${result.total} overlapping pairs as of ${result.asOf}.\n${lines.join('\n')}`, structured: result };
  },
});
