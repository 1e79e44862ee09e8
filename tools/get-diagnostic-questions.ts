import { z } from 'zod';
import { diagnosticQuestions } from '../src/diagnostics/index.js';
import { defineTool } from './tool.js';

export const getDiagnosticQuestions = defineTool({
  name: 'get_diagnostic_questions',
  title: 'Diagnostic questions',
  description:
    'Start a segmentation engagement here. Returns the eight questions to settle before designing segments ' +
    '(data, active users, channels, decisions, existing groups, activation metric, engagement data, churn signals). ' +
    'With data loaded, each question also carries what the data already shows, and any answer saved with ' +
    'save_diagnostic_answers. It does not ask the user anything by itself: put the open questions to the user.',
  inputSchema: {},
  outputSchema: {
    questions: z
      .array(
        z.object({
          id: z.string(),
          question: z.string(),
          why: z.string(),
          fromData: z.string().optional(),
          fromUser: z.string().optional(),
        }),
      )
      .describe('The questions in order, with answers from the data and from the user where known.'),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }) {
    const questions = await diagnosticQuestions(ws);
    const answered = questions.filter((q) => q.fromData || q.fromUser).length;
    const lines = questions.map(
      (q, i) => `${i + 1}. ${q.question}${q.fromData ? `\n   From the data: ${q.fromData}` : ''}${q.fromUser ? `\n   Answered: ${q.fromUser}` : ''}`,
    );
    return {
      summary: `${questions.length} diagnostic questions (${answered} with an answer so far):\n${lines.join('\n')}`,
      structured: { questions },
    };
  },
});
