import { z } from 'zod';
import { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, listSegments } from '../src/segments/index.js';
import { defineTool } from './tool.js';

const listedSegmentSchema = z.object({
  name: z.string(),
  kind: z.enum(['builtin', 'saved']),
  category: z.string().describe('Catalogue file of a built-in (behavioral, lifecycle, intent, …) or "saved".'),
  description: z.string().nullable(),
  action: z.string().nullable().describe('What to do with the segment, for the strategy document.'),
  refresh: z.string().nullable().describe('daily, weekly or monthly.'),
  size: z.number().nullable().describe('Members at the last evaluation; null when it failed.'),
  share: z.number().nullable().describe('Members divided by all scored users, 0-1.'),
  error: z.string().optional().describe('Why the segment could not be evaluated.'),
  warning: z.string().optional().describe('Set when the segment has fewer than 100 members.'),
});

export const listSegmentsTool = defineTool({
  name: 'list_segments',
  title: 'List segments',
  description:
    'List the built-in segments and the ones saved with define_segment, each with its size and share of users at the ' +
    'last evaluation, refresh cadence, description and action. Evaluates every segment first when the scores changed ' +
    'since the last evaluation, so it needs compute_scores. Paged: limit and cursor, with the total. For who is in a ' +
    'segment use find_users with segmentName; for shared members use segment_overlaps. Use it after compute_scores to ' +
    'see which segments exist and how big they are; it does not list members.',
  inputSchema: {
    limit: z
      .number()
      .int()
      .min(1)
      .max(LIST_MAX_LIMIT)
      .optional()
      .describe(`Segments per page, 1-${LIST_MAX_LIMIT}; default ${LIST_DEFAULT_LIMIT}.`),
    cursor: z.string().max(500).optional().describe('nextCursor from the previous page.'),
  },
  outputSchema: {
    asOf: z.string().describe('Last day included in the scores the sizes come from.'),
    evaluatedNow: z.boolean().describe('Whether this call evaluated the segments.'),
    total: z.number().describe('Segments over all pages.'),
    segments: z.array(listedSegmentSchema).describe('This page of segments: built-ins in catalogue order, then saved ones by name.'),
    nextCursor: z.string().optional().describe('Pass as cursor to get the next page; absent on the last page.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args) {
    const result = await listSegments(ws, { limit: args.limit, cursor: args.cursor });
    const lines = result.segments.map((segment) => {
      const size = segment.size === null ? `not evaluated (${segment.error ?? 'error'})` : `${segment.size} users`;
      return `- ${segment.name} [${segment.kind}${segment.refresh ? `, ${segment.refresh}` : ''}]: ${size}${segment.warning ? ' (small)' : ''}`;
    });
    return {
      summary: `${result.total} segments (sizes as of ${result.asOf}); showing ${result.segments.length}.\n${lines.join('\n')}`,
      structured: result,
    };
  },
});
