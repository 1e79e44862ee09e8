import { z } from 'zod';
import { computeScores } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

const inputStatus = z.object({ available: z.boolean(), detail: z.string() });

export const computeScoresTool = defineTool({
  name: 'compute_scores',
  title: 'Score every user',
  description:
    'Compute, for every user, the engagement score and tier, the churn-risk score and tier, the behavioural segment ' +
    '(power, regular, casual, at_risk, dormant, plus new and inactive), the four at-risk signals and RFM, all as of ' +
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
    timeZone: z.string(),
    users: z.number().describe('Users scored: everyone in the users file or the events.'),
    segments: z.record(z.string(), z.number()).describe('Users per behavioural segment.'),
    engagementTiers: z.record(z.string(), z.number()),
    churnRiskTiers: z.record(z.string(), z.number()),
    atRisk: z.number().describe('Users with two or more at-risk signals.'),
    inputs: z.record(z.string(), inputStatus),
    models: z.record(z.string(), z.object({ missingComponents: z.array(z.string()), totalRule: z.string() })),
    warnings: z.array(z.string()),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ ws }, args, progress) {
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
        inputs: run.inputs,
        models: run.models,
        warnings: run.warnings,
      },
    };
  },
});
