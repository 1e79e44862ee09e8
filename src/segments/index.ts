/**
 * Segments: the built-in catalogue and saved rule segments, their evaluation against the
 * current scores, behavioural-segment snapshots over the data's history, and the history
 * and transition reports built on them.
 */
export { BUILTIN_SEGMENT_DIR, loadBuiltinSegments } from './catalog.js';
export type { BuiltinSegment } from './catalog.js';
export {
  MAX_RULE_CHARS,
  RuleErrorList,
  allSegments,
  builtinSegments,
  deleteSegment,
  ensureSegmentTables,
  parseOneSegment,
  resolveSegment,
  saveSegment,
  savedSegments,
} from './definitions.js';
export type { RuleSegment, SavedSegment } from './definitions.js';
export { DEFINE_SOURCE, SAMPLE_SIZE, defineSegment } from './define.js';
export type { DefineRequest, DefineResult } from './define.js';
export {
  SMALL_SEGMENT_USERS,
  ensureEvaluated,
  evaluateSegments,
  parseCondition,
  segmentMemberQuery,
  smallSegmentWarning,
  toMemberQuery,
} from './evaluate.js';
export type { EvaluationResult, MemberQuery, SegmentEvaluation } from './evaluate.js';
export { LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT, listSegments, segmentOverlaps } from './list.js';
export type { ListedSegment, OverlapReport, SegmentList, SegmentOverlap } from './list.js';
export { MAX_PERIODS, PERIODS, WEEK_DAYS, backfillHistory, ensureHistory, snapshotPeriods } from './snapshots.js';
export type { BackfillRequest, BackfillResult, Period, SnapshotPeriod, WeekDay } from './snapshots.js';
export { CHURNED_STATE, NEW_STATE, segmentHistory, segmentTransitions } from './history.js';
export type { HistoryRequest, HistoryResult, TransitionCell, TransitionRequest, TransitionResult } from './history.js';
