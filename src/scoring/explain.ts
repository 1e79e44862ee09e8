import { UserInputError, type Row, type Workspace } from '../workspace/index.js';
import type { Component, Input, Model } from './config.js';
import { columns, isComponentAvailable } from './model-sql.js';
import {
  AT_RISK_SIGNALS,
  BEHAVIORAL_SEGMENTS,
  dormantSubsegments,
  isSkipped,
  skipReason,
  lifecycleStages,
  type Criterion,
  type OrderedSegments,
} from './segment-sql.js';
import type { ScoringRun } from './compute.js';
import { INPUTS } from './config.js';
import { orderedModels, type Settings } from './settings.js';
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
  /** Milestones only: the events that complete it. */
  readonly events?: string[];
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
  readonly value: number | string | boolean | null;
  readonly met: boolean;
  readonly skipped?: string;
}

export interface SegmentCheck {
  readonly segment: string;
  /** Whether the segment's criteria hold; the assigned segment is the first one that matches. */
  readonly matched: boolean;
  /** True for the one entry that decided the assignment: the first that matched. */
  readonly assigned: boolean;
  readonly criteria: CriterionResult[];
}

export interface OrderedAssignment {
  /** The assigned segment, or null (dormant sub-segment of a user who is not dormant). */
  readonly segment: string | null;
  /** Every candidate in the order they are tried, matched or not. */
  readonly checked: SegmentCheck[];
}

export interface UserExplanation {
  readonly userId: string;
  readonly asOf: string;
  readonly scores: ModelExplanation[];
  readonly behavioralSegment: OrderedAssignment & { readonly segment: string };
  readonly lifecycle: OrderedAssignment & { readonly stage: string };
  readonly dormancy: OrderedAssignment & { readonly thresholdDays: number; readonly inactiveDays: number | null };
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
    if (!row) throw new UserInputError(`Unknown user id "${id}": it is in neither the events nor the users table. Check the id, or list users with find_users.`);
    return explainRow(row, run, settings, available);
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
  if (component.kind === 'milestone') {
    const done = points !== null && points > 0;
    return {
      ...base,
      points,
      missing: false,
      raw: numberOrNull(row[columns.raw(model, component)]),
      unit: 'milestone completed (1) or not (0)',
      band: done ? 'completed' : 'not completed',
      events: component.events,
    } satisfies ComponentExplanation;
  }
  const fired = (row[columns.signals(model, component)] as string[] | null) ?? [];
  const labels = component.signals.filter((signal) => fired.includes(signal.metric)).map((signal) => signal.label);
  return { ...base, points, missing: false, signalsFired: labels } satisfies ComponentExplanation;
}

/** Evaluates one criterion on a stored row with the same rules as criterionSql (NULL never holds). */
function checkCriterion(criterion: Criterion, row: Row, available: ReadonlySet<Input>): CriterionResult {
  const raw = row[criterion.metric];
  const value = typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean' ? raw : null;
  if (isSkipped(criterion, available)) {
    const proxyNotNeeded = criterion.onlyWithout !== undefined && available.has(criterion.onlyWithout);
    const met = proxyNotNeeded || criterion.metWhenSkipped !== false;
    return { criterion: criterion.label, value: null, met, skipped: skipReason(criterion, available) };
  }
  if (criterion.op === 'is_null') return { criterion: criterion.label, value, met: raw === null || raw === undefined };
  if (criterion.op === 'is_true') return { criterion: criterion.label, value, met: raw === true };
  const n = numberOrNull(raw);
  const limit = criterion.value ?? 0;
  const compare = { '>=': (a: number) => a >= limit, '>': (a: number) => a > limit, '<': (a: number) => a < limit, '<=': (a: number) => a <= limit };
  const met = n !== null && compare[criterion.op](n);
  return { criterion: criterion.label, value: n === null ? null : round(n, 3), met };
}

function checkSegments(segments: OrderedSegments, row: Row, available: ReadonlySet<Input>): SegmentCheck[] {
  let decided = false;
  return segments.map((candidate) => {
    const criteria = candidate.criteria.map((criterion) => checkCriterion(criterion, row, available));
    const matched =
      criteria.length === 0 || (candidate.match === 'all' ? criteria.every((c) => c.met) : criteria.some((c) => c.met));
    const assigned = matched && !decided;
    decided ||= matched;
    return { segment: candidate.id, matched, assigned, criteria };
  });
}

function round(value: number | null, digits = 2): number | null {
  if (value === null) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function explainRow(row: Row, run: ScoringRun, settings: Settings, available: ReadonlySet<Input>): UserExplanation {
  const scores = orderedModels(settings).map((model) => ({
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
  const checked = checkSegments(BEHAVIORAL_SEGMENTS, row, available);
  const stage = String(row.lifecycle_stage);
  const dormantSegment = (row.dormant_subsegment as string | null) ?? null;

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

  const reasons = ((row.reasons as string[] | null) ?? []).map(String);

  return {
    userId: String(row.user_id),
    asOf: run.asOf,
    scores,
    behavioralSegment: { segment, checked },
    lifecycle: { segment: stage, stage, checked: checkSegments(lifecycleStages(settings), row, available) },
    dormancy: {
      segment: dormantSegment,
      thresholdDays: Number(row.dormant_threshold_days),
      inactiveDays: numberOrNull(row.inactive_days),
      checked: checkSegments(dormantSubsegments(settings), row, available),
    },
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
