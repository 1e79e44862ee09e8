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
    'render_strategy uses them for the goals and data-gap sections. Answers merge with earlier ones; an empty ' +
    'string keeps nothing new. It does not validate the content of an answer.',
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
  async handler({ ws }, { answers }) {
    const saved = await saveDiagnosticAnswers(ws, answers as Partial<Record<DiagnosticId, string>>);
    return {
      summary: `Saved ${Object.keys(answers).length} answer(s); ${Object.keys(saved).length} of 8 questions now have an answer.`,
      structured: { saved: saved as Record<string, string> },
    };
  },
});
