import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadData, type LoadReport, type LoadRequest, type TableName } from './ingest/index.js';
import { computeScores, updateSettings, type ScoringRun } from './scoring/index.js';
import { evaluateSegments, type EvaluationResult } from './segments/index.js';
import { readRuleFile, saveRuleFile } from './segments/rule-files.js';
import { renderStrategy } from './strategy/index.js';
import { quoteLiteral, type ProgressReporter, type Workspace } from './workspace/index.js';

export interface AnalyzeRequest {
  readonly files: Partial<Record<TableName, string>>;
  /** Per-table load options (mapping, timestampFormat, eventName, …). */
  readonly loadOptions?: Partial<Record<TableName, Omit<LoadRequest, 'table' | 'path'>>>;
  readonly asOf?: string;
  readonly settings?: unknown;
  /** Rule files whose segments are saved, evaluated and written to segments.csv. */
  readonly ruleFiles?: readonly string[];
  readonly outDir: string;
}

export interface AnalyzeResult {
  readonly loads: LoadReport[];
  readonly run: ScoringRun;
  readonly strategyPath: string;
  readonly usersCsvPath: string;
  readonly segmentsCsvPath: string;
  readonly segments: EvaluationResult;
}

/** Columns of users.csv, in order; the same values find_users and explain_user return. */
export const USERS_CSV_COLUMNS = [
  's.user_id',
  's.engagement_score',
  's.engagement_tier',
  's.behavioral_segment',
  's.at_risk',
  "array_to_string(s.at_risk_signals, ';') AS at_risk_signals",
  's.churn_risk_score',
  's.churn_risk_tier',
  's.rfm_r',
  's.rfm_f',
  's.rfm_m',
  's.rfm_code',
  's.rfm_segment',
  's.plan',
  'm.days_since_last_active',
  'm.days_since_signup',
  'm.sessions_7d',
  'm.avg_weekly_sessions_28d',
  's.engagement_frequency_points',
  's.engagement_breadth_points',
  's.engagement_depth_points',
  's.engagement_recency_points',
  's.churn_risk_usage_decline_points',
  's.churn_risk_recency_gap_points',
  's.churn_risk_support_points',
  's.churn_risk_billing_points',
  's.churn_risk_trend_points',
  's.activation_score',
  's.activation_tier',
  's.expansion_score',
  's.expansion_tier',
  's.lifecycle_stage',
  's.dormant_subsegment',
  // The same lines find_users and explain_user return, built in SQL when scoring.
  "array_to_string(s.reasons, ' | ') AS reasons",
];

const LOAD_ORDER: TableName[] = ['users', 'events', 'billing', 'support', 'nps'];

/**
 * Runs the headless pipeline behind `segmentation-mcp analyze`: loads the given files, scores
 * every user, and writes `strategy.md`, `users.csv` and `segments.csv` into the output folder.
 */
export async function analyze(ws: Workspace, request: AnalyzeRequest, reporter: ProgressReporter): Promise<AnalyzeResult> {
  if (request.settings !== undefined) await updateSettings(ws, request.settings);
  // Syntax and names are checked before any data is loaded, so a typo fails fast.
  for (const file of request.ruleFiles ?? []) readRuleFile(file);
  const loads: LoadReport[] = [];
  for (const table of LOAD_ORDER) {
    const file = request.files[table];
    if (!file) continue;
    reporter.report({ progress: loads.length, message: `loading ${table} from ${file}` });
    loads.push(await loadData(ws, { ...request.loadOptions?.[table], table, path: file }, reporter));
  }
  for (const file of request.ruleFiles ?? []) await saveRuleFile(ws, file);
  reporter.report({ progress: loads.length, message: 'scoring' });
  const run = await computeScores(ws, { asOf: request.asOf }, reporter);
  reporter.report({ progress: loads.length + 1, message: 'evaluating segments' });
  const segments = await evaluateSegments(ws);

  mkdirSync(request.outDir, { recursive: true });
  const { markdown } = await renderStrategy(ws);
  const strategyPath = path.join(request.outDir, 'strategy.md');
  writeFileSync(strategyPath, markdown);
  const usersCsvPath = path.resolve(request.outDir, 'users.csv');
  await exportUsersCsv(ws, usersCsvPath);
  const segmentsCsvPath = path.resolve(request.outDir, 'segments.csv');
  writeFileSync(segmentsCsvPath, segmentsCsv(segments));
  return { loads, run, strategyPath, usersCsvPath, segmentsCsvPath, segments };
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Formats one CSV row per built-in or saved rule segment: its size at the as-of day, share, and any warning or error. */
function segmentsCsv(result: EvaluationResult): string {
  const header = 'segment,kind,size,share,warning,error';
  const rows = result.segments.map((segment) =>
    [segment.name, segment.kind, segment.size, segment.share, segment.warning, segment.error].map(csvCell).join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

/** Writes one row per scored user to a CSV file with the columns of {@link USERS_CSV_COLUMNS}. */
export async function exportUsersCsv(ws: Workspace, file: string): Promise<void> {
  await ws.run(
    `COPY (
       SELECT ${USERS_CSV_COLUMNS.join(', ')}
       FROM user_scores s JOIN user_metrics m USING (user_id)
       ORDER BY s.user_id
     ) TO ${quoteLiteral(file)} (FORMAT csv, HEADER)`,
  );
}
