import { z } from 'zod';
import { computeScores } from '../src/scoring/index.js';
import { UserInputError } from '../src/workspace/index.js';
import { defineTool } from './tool.js';

const inputStatus = z.object({ available: z.boolean(), detail: z.string() });

export const computeScoresTool = defineTool({
  name: 'compute_scores',
  title: 'Score every user',
  description:
    'Compute, for every user, the engagement, activation, expansion-readiness and churn-risk scores and tiers, the ' +
    'behavioural segment (power, regular, casual, at_risk, dormant, plus new and inactive), the lifecycle stage, the ' +
    'dormant sub-segment, the four at-risk signals and RFM, all as of ' +
    'one calendar day. Run it after load_data and again after loading more data or changing settings. Returns segment ' +
    'and tier counts and which score components are missing for lack of data. It does not list users: use find_users.',
  inputSchema: {
    asOf: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .optional()
      .describe('Last calendar day included, YYYY-MM-DD. Default: the day of the latest event.'),
  },
  outputSchema: {
    asOf: z.string().describe('Last calendar day included in every window.'),
    timeZone: z.string().describe('IANA time zone of the calendar days.'),
    users: z.number().describe('Users scored: everyone in the users file or the events.'),
    segments: z.record(z.string(), z.number()).describe('Users per behavioural segment.'),
    engagementTiers: z.record(z.string(), z.number()).describe('Users per engagement tier.'),
    churnRiskTiers: z.record(z.string(), z.number()).describe('Users per churn-risk tier.'),
    atRisk: z.number().describe('Users with two or more at-risk signals.'),
    activationTiers: z.record(z.string(), z.number()).describe('Users per activation tier.'),
    expansionTiers: z.record(z.string(), z.number()).describe('Users per expansion-readiness tier.'),
    lifecycleStages: z.record(z.string(), z.number()).describe('Users per lifecycle stage.'),
    dormantSubsegments: z.record(z.string(), z.number()).describe('Dormant users per sub-segment ("none" for the others).'),
    inputs: z.record(z.string(), inputStatus).describe('Per scoring input, whether the loaded data provides it and why.'),
    models: z
      .record(z.string(), z.object({ missingComponents: z.array(z.string()), totalRule: z.string() }))
      .describe('Per model, the components that cannot be computed and how the total is formed.'),
    warnings: z.array(z.string()).describe('Problems found in the data while scoring.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ ws }, args, progress) {
    if (args.asOf && (await ws.rowCount('events')) > 0) {
      const first = await ws.queryOne<{ day: string | null }>('SELECT min(ts)::DATE::VARCHAR AS day FROM events');
      if (first?.day && args.asOf < first.day) {
        throw new UserInputError(
          `The as-of day ${args.asOf} is before the first event (${first.day}), so every user would score as inactive. ` +
            `Pick a day from ${first.day} on, or leave asOf out to use the day of the latest event.`,
        );
      }
    }
    const run = await computeScores(ws, { asOf: args.asOf }, progress);
    const counts = async (column: string) => {
      const rows = await ws.query<{ k: string; n: number }>(
        `SELECT ${column} AS k, count(*) AS n FROM user_scores GROUP BY 1 ORDER BY 2 DESC`,
      );
      return Object.fromEntries(rows.map((row) => [row.k ?? 'none', row.n]));
    };
    const segments = await counts('behavioral_segment');
    const engagementTiers = await counts('engagement_tier');
    const churnRiskTiers = await counts('churn_risk_tier');
    const activationTiers = await counts('activation_tier');
    const expansionTiers = await counts('expansion_tier');
    const lifecycleStages = await counts('lifecycle_stage');
    const dormantSubsegments = await counts('dormant_subsegment');
    const atRiskRow = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM user_scores WHERE at_risk');
    const atRisk = atRiskRow?.n ?? 0;
    const missing = Object.entries(run.models)
      .filter(([, model]) => model.missingComponents.length > 0)
      .map(([id, model]) => `${id}: ${model.totalRule}`);
    const summary = [
      `Scored ${run.users} users as of ${run.asOf} (${run.timeZone}).`,
      `Segments: ${Object.entries(segments).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `At risk (2+ signals): ${atRisk}.`,
      `Engagement tiers: ${Object.entries(engagementTiers).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `Churn-risk tiers: ${Object.entries(churnRiskTiers).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `Activation tiers: ${Object.entries(activationTiers).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `Expansion-readiness tiers: ${Object.entries(expansionTiers).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      `Lifecycle stages: ${Object.entries(lifecycleStages).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
      ...missing,
      ...run.warnings,
    ].join('\n');
    return {
      summary,
      structured: {
        asOf: run.asOf,
        timeZone: run.timeZone,
        users: run.users,
        segments,
        engagementTiers,
        churnRiskTiers,
        atRisk,
        activationTiers,
        expansionTiers,
        lifecycleStages,
        dormantSubsegments,
        inputs: run.inputs,
        models: run.models,
        warnings: run.warnings,
      },
    };
  },
});
