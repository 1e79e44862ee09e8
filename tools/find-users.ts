import { z } from 'zod';
import { FIND_DEFAULT_LIMIT, FIND_MAX_LIMIT, ORDER_COLUMNS, findUsers } from '../src/scoring/index.js';
import { MAX_RESULT_BYTES, jsonBytes } from '../src/mcp/limits.js';
import { MAX_RULE_CHARS, segmentMemberQuery } from '../src/segments/index.js';
import { defineTool } from './tool.js';

/** Share of the result size limit that a page of users may fill; the rest is for the text summary. */
const PAGE_BYTES = Math.floor(MAX_RESULT_BYTES * 0.8);

export const foundUserSchema = z.object({
  userId: z.string(),
  behavioralSegment: z.string(),
  engagementScore: z.number().nullable(),
  engagementTier: z.string().nullable(),
  churnRiskScore: z.number().nullable(),
  churnRiskTier: z.string().nullable(),
  atRisk: z.boolean(),
  atRiskSignals: z.array(z.string()),
  rfmCode: z.string(),
  daysSinceLastActive: z.number().nullable(),
  reasons: z.array(z.string()).describe('Why the user is in this list: segment criteria met, signals fired, scores.'),
});

export const findUsersTool = defineTool({
  name: 'find_users',
  title: 'Find users',
  description:
    'List scored users by behavioural segment, lifecycle stage, dormant sub-segment, score tier, RFM segment, the at-risk flag, a rule segment by name or an ' +
    'inline rule condition, ordered (default: highest churn ' +
    'risk first) and paged, each with the reasons it is in the list. Use it for "who is at risk, and why?". ' +
    `Returns at most ${FIND_MAX_LIMIT} users per call (default ${FIND_DEFAULT_LIMIT}) plus the total and a cursor for the next page. ` +
    `A page that would exceed ${PAGE_BYTES} bytes of JSON is shortened, and its cursor continues after the last user returned. ` +
    'Requires compute_scores first. For one user in full detail use explain_user; for the whole list as a file use export_segment.',
  inputSchema: {
    segment: z
      .string()
      .optional()
      .describe('Behavioural segment: power, regular, casual, at_risk, dormant, new or inactive.'),
    engagementTier: z.string().optional().describe('highly_engaged, engaged, moderate, low or disengaged.'),
    churnRiskTier: z.string().optional().describe('high, moderate, low or healthy.'),
    rfmSegment: z.string().optional().describe('RFM segment name, e.g. champions or lost.'),
    lifecycleStage: z
      .string()
      .optional()
      .describe('Lifecycle stage: new, activated, engaged, power, at_risk or churned.'),
    dormantSubsegment: z
      .string()
      .optional()
      .describe('Dormant sub-segment: lapsed_after_activation, never_activated or churned_after_paying.'),
    activationTier: z.string().optional().describe('Activation tier, e.g. fully_activated or not_activated.'),
    expansionTier: z.string().optional().describe('Expansion-readiness tier, e.g. high or not_ready.'),
    atRisk: z.boolean().optional().describe('true: only users with two or more at-risk signals.'),
    segmentName: z
      .string()
      .max(200)
      .optional()
      .describe('Name of a built-in or saved rule segment (see list_segments), e.g. "Power Users".'),
    condition: z
      .string()
      .max(MAX_RULE_CHARS)
      .optional()
      .describe('Inline rule expression, the body of a conditions block, e.g. events.session_count(last_7_days) >= 3 AND user.plan = "pro".'),
    orderBy: z.enum(ORDER_COLUMNS).optional().describe('Sort column; default churn_risk_score.'),
    descending: z.boolean().optional().describe('Sort direction; default descending except for user_id.'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(FIND_MAX_LIMIT)
      .optional()
      .describe(`Users per page, 1-${FIND_MAX_LIMIT}; default ${FIND_DEFAULT_LIMIT}.`),
    cursor: z.string().max(500).optional().describe('nextCursor from the previous page of the same query.'),
  },
  outputSchema: {
    asOf: z.string().describe('As-of day of the scores.'),
    total: z.number().describe('Users matching the filters, over all pages.'),
    users: z.array(foundUserSchema).describe('This page of users, in the requested order.'),
    nextCursor: z.string().optional().describe('Pass as cursor to get the next page; absent on the last page.'),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args) {
    const request = {
      behavioralSegment: args.segment,
      engagementTier: args.engagementTier,
      churnRiskTier: args.churnRiskTier,
      rfmSegment: args.rfmSegment,
      lifecycleStage: args.lifecycleStage,
      dormantSubsegment: args.dormantSubsegment,
      activationTier: args.activationTier,
      expansionTier: args.expansionTier,
      atRisk: args.atRisk,
      memberQuery: await segmentMemberQuery(ws, { segmentName: args.segmentName, condition: args.condition }),
      orderBy: args.orderBy,
      descending: args.descending,
      limit: args.limit,
      cursor: args.cursor,
    };
    let result = await findUsers(ws, request);
    const pageBytes = jsonBytes(result);
    let shortened = false;
    if (pageBytes > PAGE_BYTES && result.users.length > 1) {
      // Fetch the page again with fewer users, so that nextCursor starts right after the last one returned.
      const limit = Math.max(1, Math.floor((result.users.length * PAGE_BYTES) / pageBytes) - 1);
      result = await findUsers(ws, { ...request, limit });
      shortened = true;
    }
    const preview = result.users
      .slice(0, 10)
      .map((user) => `- ${user.userId}: ${user.reasons.slice(0, 2).join('; ')}`)
      .join('\n');
    const more = result.users.length > 10 ? `\n(${result.users.length - 10} more in this page)` : '';
    const cut = shortened ? `\nThe page was shortened to ${result.users.length} users to stay under ${PAGE_BYTES} bytes; nextCursor continues from there.` : '';
    return {
      summary: `${result.total} users match (as of ${result.asOf}); showing ${result.users.length}.\n${preview}${more}${cut}`,
      structured: result,
    };
  },
});
