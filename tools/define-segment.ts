import { z } from 'zod';
import { DEFINE_SOURCE, MAX_RULE_CHARS, SAMPLE_SIZE, defineSegment } from '../src/segments/index.js';
import { foundUserSchema } from './find-users.js';
import { defineTool } from './tool.js';

export const defineSegmentTool = defineTool({
  name: 'define_segment',
  title: 'Define a segment',
  description:
    'Check a segment written in the rule language, save it under its name, and evaluate it against the current scores: ' +
    `returns its size, its share of all users and up to ${SAMPLE_SIZE} members with the reasons from their scores. ` +
    'A rule with mistakes returns every error at once, each with line:column and a caret under the text. ' +
    'Built-in segment names cannot be reused; pass replace: true to overwrite a segment you saved before. ' +
    'Example: segment "Heavy exporters" { conditions { events.export(last_30_days) >= 5 AND user.plan = "pro" } refresh: weekly }. ' +
    'The grammar and every function are in docs/rules.md.',
  inputSchema: {
    rule: z
      .string()
      .min(1)
      .max(MAX_RULE_CHARS)
      .describe('Rule text of exactly one segment: segment "Name" { conditions { … } refresh: daily description: "…" action: "…" }.'),
    replace: z.boolean().optional().describe('true: overwrite a saved segment with the same name. Default false.'),
  },
  outputSchema: {
    name: z.string().describe('Name the segment is saved under.'),
    replaced: z.boolean().describe('Whether a saved segment of that name was overwritten.'),
    canonical: z.string().describe('The rule as stored, printed in canonical form.'),
    asOf: z.string().nullable().describe('Last day included in the scores the segment was evaluated on; null before compute_scores.'),
    size: z.number().nullable().describe('Members; null when not evaluated.'),
    share: z.number().nullable().describe('Members divided by all scored users, 0-1.'),
    users: z.number().nullable().describe('All scored users.'),
    sample: z.array(foundUserSchema).describe(`Up to ${SAMPLE_SIZE} members, highest churn risk first.`),
    warnings: z.array(z.string()).describe('Small-segment and evaluation warnings.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args) {
    const result = await defineSegment(ws, { rule: args.rule, replace: args.replace });
    const size =
      result.size === null
        ? 'not evaluated'
        : `${result.size} of ${result.users} users (${((result.share ?? 0) * 100).toFixed(1)}%) as of ${result.asOf}`;
    const sample = result.sample.map((user) => `- ${user.userId}: ${user.reasons.slice(0, 2).join('; ')}`).join('\n');
    return {
      summary: [
        `${result.replaced ? 'Replaced' : 'Saved'} segment "${result.name}" (checked as ${DEFINE_SOURCE}): ${size}.`,
        ...result.warnings,
        ...(sample ? ['Sample:', sample] : []),
      ].join('\n'),
      structured: result,
    };
  },
});
