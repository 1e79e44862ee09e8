import { computeScoresTool } from './compute-scores.js';
import { describeDataTool } from './describe-data.js';
import { explainUserTool } from './explain-user.js';
import { findUsersTool } from './find-users.js';
import { getDiagnosticQuestions } from './get-diagnostic-questions.js';
import { loadDataTool } from './load-data.js';
import { renderStrategyTool } from './render-strategy.js';
import { saveDiagnosticAnswersTool } from './save-diagnostic-answers.js';

/** Every tool the server registers, in the order of the consultative flow. */
export const TOOLS = [
  getDiagnosticQuestions,
  saveDiagnosticAnswersTool,
  loadDataTool,
  describeDataTool,
  computeScoresTool,
  findUsersTool,
  explainUserTool,
  renderStrategyTool,
];
