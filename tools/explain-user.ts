import { z } from 'zod';
import { explainUsers } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

export const explainUserTool = defineTool({
  name: 'explain_user',
  title: 'Explain one user',
  description:
    "Explain one user's results in full: every component of every score (raw value, window, band, points, or why it " +
    'is missing), which criteria of each behavioural segment, lifecycle stage and dormant sub-segment matched or failed, ' +
    'the at-risk signals and the RFM code. ' +
    'Use it when someone asks why a user is where they are. Requires compute_scores first.',
  inputSchema: { userId: z.string().min(1).max(500).describe('The user id as it appears in the data.') },
  outputSchema: { explanation: z.record(z.string(), z.unknown()).describe('The full explanation.') },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, { userId }) {
    const [explanation] = await explainUsers(ws, [userId]);
    const lines = explanation.scores.map((score) => {
      const parts = score.components.map((c) =>
        c.missing ? `${c.label}: missing` : `${c.label} ${c.points}/${c.max}${c.band ? ` (${c.band})` : ''}${c.signalsFired?.length ? ` (${c.signalsFired.join(', ')})` : ''}`,
      );
      if (score.score === null) return `${score.label}: cannot be computed with the data loaded (${parts.join(', ')})`;
      return `${score.label}: ${score.score} (${score.tier}) = ${parts.join(' + ')}`;
    });
    return {
      summary: [`User ${userId} as of ${explanation.asOf}: ${explanation.reasons[0]}`, ...lines, ...explanation.reasons.slice(1)].join('\n'),
      structured: { explanation: explanation as unknown as Record<string, unknown> },
    };
  },
});
