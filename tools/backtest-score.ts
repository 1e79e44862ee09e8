import { z } from 'zod';
import { backtestScore } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

export const backtestScoreTool = defineTool({
  name: 'backtest_score',
  title: 'Back-test a score',
  description:
    'Check how well the churn-risk (or engagement) score predicted churn: score every user as of an earlier day, then ' +
    'observe who churned by a later day (no event after the as-of day up to the end day, or a billing cancel in that ' +
    'period), among users active in the 30 days before the as-of day. Returns the AUC, the churn rate per tier and the ' +
    'lift of the riskiest tier. The scores stored before the call are restored afterwards.',
  inputSchema: {
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('Day the score is computed as of, YYYY-MM-DD.'),
    observeUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('Last day of the observation period, YYYY-MM-DD.'),
    score: z.enum(['churn_risk', 'engagement']).optional().describe('Score to test; default churn_risk.'),
    activeWithinDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('Only users active in this many days up to asOf are observed; default 30.'),
  },
  outputSchema: {
    score: z.string().describe('The score tested: churn_risk or engagement.'),
    asOf: z.string().describe('Day the score was computed as of.'),
    observeUntil: z.string().describe('Last day of the observation period.'),
    activeWithinDays: z.number().describe('Users observed were active in this many days up to asOf.'),
    users: z.number().describe('Users observed.'),
    churned: z.number().describe('Observed users with no event after asOf up to observeUntil, or a billing cancel then.'),
    churnRate: z.number().nullable().describe('churned / users; null without users.'),
    auc: z.number().nullable().describe('0.5 is chance, 1 is perfect ranking; engagement is reversed (low = risky).'),
    tiers: z
      .array(z.object({ tier: z.string(), users: z.number(), churned: z.number(), churnRate: z.number().nullable() }))
      .describe('Users, churned users and churn rate per tier of the score, lowest tier first.'),
    riskiestTier: z.string().describe('The highest churn-risk tier, or the lowest engagement tier.'),
    lift: z.number().nullable().describe('Churn rate of the riskiest tier divided by the overall churn rate.'),
    outcomeRule: z.string().describe('Who was observed and what counted as churn, in words.'),
    warnings: z.array(z.string()).describe('Caveats, such as an observation period that runs past the last event.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ ws }, args, progress) {
    const result = await backtestScore(ws, args, progress);
    const percent = (value: number | null) => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);
    return {
      summary: [
        `${result.score} as of ${result.asOf}, observed until ${result.observeUntil}: ${result.users} users, ` +
          `${result.churned} churned (${percent(result.churnRate)}).`,
        `AUC ${result.auc === null ? 'n/a' : result.auc.toFixed(3)}; lift of the ${result.riskiestTier} tier ` +
          `${result.lift === null ? 'n/a' : result.lift.toFixed(2)}.`,
        ...result.tiers.map((tier) => `- ${tier.tier}: ${tier.users} users, churn ${percent(tier.churnRate)}`),
        ...result.warnings,
      ].join('\n'),
      structured: result,
    };
  },
});
