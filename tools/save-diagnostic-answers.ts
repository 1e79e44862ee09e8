import { z } from 'zod';
import { DIAGNOSTIC_QUESTIONS, saveDiagnosticAnswers, type DiagnosticId } from '../src/diagnostics/index.js';
import { defineTool } from './tool.js';

const answerFields = Object.fromEntries(
  DIAGNOSTIC_QUESTIONS.map((q) => [q.id, z.string().max(2000).optional().describe(q.question)]),
) as Record<DiagnosticId, z.ZodOptional<z.ZodString>>;

export const saveDiagnosticAnswersTool = defineTool({
  name: 'save_diagnostic_answers',
  title: 'Save diagnostic answers',
  description:
    "Store the user's answers to the diagnostic questions (ids from get_diagnostic_questions) in the workspace. " +
    'Use it after get_diagnostic_questions, each time the user answers one. render_strategy uses the answers for the ' +
    'goals and data-gap sections. Answers merge with earlier ones, and an empty answer leaves the earlier one in place. ' +
    'It does not check what an answer says.',
  inputSchema: {
    answers: z
      .object(answerFields)
      .strict()
      .describe('Answer text per question id, e.g. {"decisions": "Prioritise sales outreach"}.'),
  },
  outputSchema: {
    saved: z.record(z.string(), z.string()).describe('Every answer now stored in the workspace.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, { answers }) {
    // An empty answer would overwrite an earlier one with nothing, so it is dropped.
    const given = Object.fromEntries(Object.entries(answers).filter(([, text]) => typeof text === 'string' && text.trim() !== ''));
    const saved = await saveDiagnosticAnswers(ws, given as Partial<Record<DiagnosticId, string>>);
    return {
      summary: `Saved ${Object.keys(given).length} answer(s); ${Object.keys(saved).length} of 8 questions now have an answer.`,
      structured: { saved: saved as Record<string, string> },
    };
  },
});
