import { UserInputError, type Row, type Workspace } from '../workspace/index.js';
import type { Component, Input, Model } from './config.js';
import { columns, isComponentAvailable } from './model-sql.js';
import { AT_RISK_SIGNALS, BEHAVIORAL_SEGMENTS, type Criterion } from './segment-sql.js';
import type { ScoringRun } from './compute.js';
import { INPUTS } from './config.js';
import { loadSettings } from './store.js';

export interface ComponentExplanation {
  readonly id: string;
  readonly label: string;
  readonly window: string;
  readonly max: number;
  /** null when the component cannot be computed with the data loaded. */
  readonly points: number | null;
  readonly missing: boolean;
  readonly missingReason?: string;
  readonly raw?: number | null;
  readonly unit?: string;
  readonly band?: string;
  readonly signalsFired?: string[];
}

export interface ModelExplanation {
  readonly model: string;
  readonly label: string;
  readonly score: number | null;
  readonly tier: string | null;
  readonly totalRule: string;
  readonly components: ComponentExplanation[];
}

export interface CriterionResult {
  readonly criterion: string;
  readonly value: number | string | null;
  readonly met: boolean;
  readonly skipped?: string;
}

export interface UserExplanation {
  readonly userId: string;
  readonly asOf: string;
  readonly scores: ModelExplanation[];
  readonly behavioralSegment: {
    readonly segment: string;
    readonly checked: { segment: string; matched: boolean; criteria: CriterionResult[] }[];
  };
  readonly atRisk: { readonly atRisk: boolean; readonly signals: { id: string; label: string; fired: boolean | null }[] };
  readonly rfm: { r: number; f: number; m: number | null; code: string; segment: string; plan: string | null };
  /** Key activity measurements as of the boundary. */
  readonly activity: {
    readonly daysSinceLastActive: number | null;
    readonly daysSinceSignup: number | null;
    readonly sessions7d: number;
    readonly sessionsPrevious7d: number;
    readonly avgWeeklySessions28d: number;
    readonly totalSessions: number;
  };
  /** One line per fact that put the user where it is, for lists. */
  readonly reasons: string[];
}

/** Explains every score, segment and signal of the given users from stored results (no recomputation). */
export async function explainUsers(ws: Workspace, userIds: readonly string[]): Promise<UserExplanation[]> {
  const run = await ws.getMeta<ScoringRun>('scoring');
  if (!run || !(await ws.tableExists('user_scores'))) {
    throw new UserInputError('No scores yet: run compute_scores first.');
  }
  if (userIds.length === 0) return [];
  const settings = await loadSettings(ws);
  const available = new Set<Input>(INPUTS.filter((input) => run.inputs[input]?.available));
  const fetched = await fetchRows(ws, userIds);
  const byId = new Map(fetched.map((row) => [String(row.user_id), row]));
  return userIds.map((id) => {
    const row = byId.get(id);
    if (!row) throw new UserInputError(`Unknown user id "${id}": it is in neither the events nor the users table.`);
    return explainRow(row, run, [settings.models.engagement, settings.models.churn_risk], available);
  });
}

async function fetchRows(ws: Workspace, userIds: readonly string[]): Promise<Row[]> {
  const placeholders = userIds.map((_, i) => `$${i + 1}`).join(', ');
  return ws.query(
    `SELECT s.*, m.* EXCLUDE (user_id, plan)
     FROM user_scores s JOIN user_metrics m USING (user_id)
     WHERE s.user_id IN (${placeholders})`,
    [...userIds],
  );
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function explainComponent(
  model: Model,
  component: Component,
  row: Row,
  run: ScoringRun,
  available: ReadonlySet<Input>,
): ComponentExplanation {
  const base = { id: component.id, label: component.label, window: component.window, max: component.max };
  if (!isComponentAvailable(component, available)) {
    const reasons = component.requires.filter((input) => !available.has(input)).map((input) => run.inputs[input].detail);
    return { ...base, points: null, missing: true, missingReason: reasons.join(' ') } satisfies ComponentExplanation;
  }
  const points = numberOrNull(row[columns.points(model, component)]);
  if (component.kind === 'bands') {
    const bandIndex = numberOrNull(row[columns.band(model, component)]) ?? -1;
    const band = bandIndex < 0 ? component.nullLabel : component.bands[bandIndex]?.label;
    return {
      ...base,
      points,
      missing: false,
      raw: numberOrNull(row[columns.raw(model, component)]),
      unit: component.unit,
      band,
    } satisfies ComponentExplanation;
  }
  const fired = (row[columns.signals(model, component)] as string[] | null) ?? [];
  const labels = component.signals.filter((signal) => fired.includes(signal.metric)).map((signal) => signal.label);
  return { ...base, points, missing: false, signalsFired: labels } satisfies ComponentExplanation;
}

function checkCriterion(criterion: Criterion, row: Row, available: ReadonlySet<Input>): CriterionResult {
  const raw = row[criterion.metric];
  const value = typeof raw === 'number' || typeof raw === 'string' ? raw : null;
  if (criterion.requires && !available.has(criterion.requires)) {
    return { criterion: criterion.label, value, met: true, skipped: `skipped: ${criterion.requires} is not available` };
  }
  if (criterion.op === 'is_null') return { criterion: criterion.label, value, met: raw === null || raw === undefined };
  const n = numberOrNull(raw);
  const met = n !== null && (criterion.op === '>=' ? n >= (criterion.value ?? 0) : n < (criterion.value ?? 0));
  return { criterion: criterion.label, value: n, met };
}

function round(value: number | null, digits = 2): number | null {
  if (value === null) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function explainRow(row: Row, run: ScoringRun, models: Model[], available: ReadonlySet<Input>): UserExplanation {
  const scores = models.map((model) => ({
    model: model.id,
    label: model.label,
    score: numberOrNull(row[columns.total(model)]),
    tier: (row[columns.tier(model)] as string | null) ?? null,
    totalRule: run.models[model.id]?.totalRule ?? '',
    components: model.components.map((component) => {
      const explanation = explainComponent(model, component, row, run, available);
      return explanation.raw === undefined ? explanation : { ...explanation, raw: round(explanation.raw ?? null, 3) };
    }),
  }));

  const segment = String(row.behavioral_segment);
  const checked: UserExplanation['behavioralSegment']['checked'] = [];
  for (const candidate of BEHAVIORAL_SEGMENTS) {
    const criteria = candidate.criteria.map((criterion) => checkCriterion(criterion, row, available));
    const matched =
      criteria.length === 0 ||
      (candidate.match === 'all' ? criteria.every((c) => c.met) : criteria.some((c) => c.met));
    checked.push({ segment: candidate.id, matched, criteria });
    if (candidate.id === segment) break;
  }

  const firedSignals = (row.at_risk_signals as string[] | null) ?? [];
  const signals = AT_RISK_SIGNALS.map((signal) => ({
    id: signal.id,
    label: signal.label,
    fired: signal.requires.every((input) => available.has(input)) ? firedSignals.includes(signal.id) : null,
  }));

  const rfm = {
    r: Number(row.rfm_r),
    f: Number(row.rfm_f),
    m: numberOrNull(row.rfm_m),
    code: String(row.rfm_code),
    segment: String(row.rfm_segment),
    plan: (row.plan as string | null) ?? null,
  };

  const reasons: string[] = [];
  const matchedSegment = checked[checked.length - 1];
  const met = matchedSegment?.criteria.filter((c) => c.met && !c.skipped).map((c) => c.criterion) ?? [];
  reasons.push(`${segment}${met.length > 0 ? `: ${met.join('; ')}` : ''}`);
  if (firedSignals.length > 0) {
    reasons.push(`at-risk signals (${firedSignals.length} of 4, at risk from 2): ${firedSignals.join(', ')}`);
  }
  for (const score of scores) {
    if (score.score !== null) reasons.push(`${score.label.toLowerCase()} ${score.score} (${score.tier})`);
  }
  reasons.push(`days since last active: ${row.days_since_last_active ?? 'never active'}`);

  return {
    userId: String(row.user_id),
    asOf: run.asOf,
    scores,
    behavioralSegment: { segment, checked },
    atRisk: { atRisk: row.at_risk === true, signals },
    rfm,
    activity: {
      daysSinceLastActive: numberOrNull(row.days_since_last_active),
      daysSinceSignup: numberOrNull(row.days_since_signup),
      sessions7d: Number(row.sessions_7d),
      sessionsPrevious7d: Number(row.sessions_prev_7d),
      avgWeeklySessions28d: Number(row.avg_weekly_sessions_28d),
      totalSessions: Number(row.total_sessions),
    },
    reasons,
  };
}
