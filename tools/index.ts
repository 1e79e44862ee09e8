import { backfillHistoryTool } from './backfill-history.js';
import { backtestScoreTool } from './backtest-score.js';
import { computeScoresTool } from './compute-scores.js';
import { configureScoringTool } from './configure-scoring.js';
import { defineSegmentTool } from './define-segment.js';
import { deleteSegmentTool } from './delete-segment.js';
import { describeDataTool } from './describe-data.js';
import { explainUserTool } from './explain-user.js';
import { exportSegmentTool } from './export-segment.js';
import { findUsersTool } from './find-users.js';
import { getDiagnosticQuestions } from './get-diagnostic-questions.js';
import { listSegmentsTool } from './list-segments.js';
import { loadDataTool } from './load-data.js';
import { renderStrategyTool } from './render-strategy.js';
import { rfmQuantilesTool } from './rfm-quantiles.js';
import { saveDiagnosticAnswersTool } from './save-diagnostic-answers.js';
import { segmentHistoryTool } from './segment-history.js';
import { segmentOverlapsTool } from './segment-overlaps.js';
import { segmentTransitionsTool } from './segment-transitions.js';

/** Every tool the server registers, in the order of the consultative flow. */
export const TOOLS = [
  getDiagnosticQuestions,
  saveDiagnosticAnswersTool,
  loadDataTool,
  describeDataTool,
  configureScoringTool,
  computeScoresTool,
  findUsersTool,
  explainUserTool,
  rfmQuantilesTool,
  backtestScoreTool,
  defineSegmentTool,
  listSegmentsTool,
  deleteSegmentTool,
  segmentOverlapsTool,
  backfillHistoryTool,
  segmentHistoryTool,
  segmentTransitionsTool,
  exportSegmentTool,
  renderStrategyTool,
];
