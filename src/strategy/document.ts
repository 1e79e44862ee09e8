import { loadDiagnosticAnswers } from '../diagnostics/index.js';
import { BEHAVIORAL_SEGMENTS, AT_RISK_SIGNALS, findUsers, loadSettings, type ScoringRun } from '../scoring/index.js';
import { orderedModels } from '../scoring/settings.js';
import type { Model } from '../scoring/config.js';
import { UserInputError, type Workspace } from '../workspace/index.js';
import { SEGMENT_PLAYS } from './playbook.js';

/** Smallest segment the document calls reliable; smaller ones carry a warning. */
export const MIN_SEGMENT_SIZE = 100;

export interface StrategyDocument {
  readonly generatedAt: string;
  readonly asOf: string;
  readonly timeZone: string;
  readonly totalUsers: number;
  readonly goals: { primary: string; questions: string[]; stated: boolean };
  /** The team's own statements from the diagnostic questions, shown where they inform the plan. */
  readonly context: { label: string; answer: string }[];
  readonly sources: { table: string; rows: number; from: string | null; to: string | null }[];
  readonly gaps: string[];
  readonly segments: {
    index: number;
    id: string;
    name: string;
    criteria: string[];
    size: number;
    share: string;
    avgEngagement: number | null;
    avgChurnRisk: number | null;
    warning: string | null;
    action: string;
    successMetric: string;
  }[];
  readonly atRisk: { count: number; share: string; signals: { label: string; count: number }[]; examples: { userId: string; reasons: string }[] };
  readonly models: {
    label: string;
    totalRule: string;
    components: { label: string; max: number; window: string; bands: string; missing: boolean }[];
    tiers: { name: string; range: string; count: number; share: string }[];
  }[];
  readonly rfm: { segment: string; count: number; share: string }[];
  readonly lifecycle: { stage: string; count: number; share: string }[];
  readonly dormant: { subsegment: string; count: number; share: string }[];
  readonly playbook: { touchpoint: string; cells: string[] }[];
  readonly playbookSegments: string[];
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

function describeBands(model: Model, index: number): string {
  const component = model.components[index];
  if (component.kind === 'signals') {
    return component.signals.map((signal) => `${signal.label}: ${signal.points}`).join('; ');
  }
  if (component.kind === 'milestone') return `${component.events.join(' or ')}: ${component.max}`;
  return [...component.bands]
    .reverse()
    .map((band) => `${band.label}: ${band.points}`)
    .join('; ');
}

/** Collects every number of the strategy document from the scored workspace. */
export async function buildStrategyDocument(ws: Workspace): Promise<StrategyDocument> {
  const run = await ws.getMeta<ScoringRun>('scoring');
  if (!run || !(await ws.tableExists('user_scores'))) {
    throw new UserInputError('No scores yet: run compute_scores before rendering the strategy.');
  }
  const settings = await loadSettings(ws);
  const answers = await loadDiagnosticAnswers(ws);
  const totalUsers = run.users;

  const sources: StrategyDocument['sources'] = [];
  for (const table of ['events', 'users', 'billing', 'support', 'nps']) {
    const rows = await ws.rowCount(table);
    if (rows === 0) continue;
    const hasTs = table !== 'users';
    const range = hasTs
      ? await ws.queryOne<{ from: string; to: string }>(`SELECT min(ts)::DATE::VARCHAR AS "from", max(ts)::DATE::VARCHAR AS "to" FROM ${table}`)
      : undefined;
    sources.push({ table, rows, from: range?.from ?? null, to: range?.to ?? null });
  }
  const gaps = Object.values(run.inputs)
    .filter((input) => !input.available)
    .map((input) => input.detail);
  if (answers.data_sources) gaps.push(`Stated by the team: ${answers.data_sources}`);

  const sizes = await ws.query<{ segment: string; n: number; engagement: number | null; churn: number | null }>(
    `SELECT behavioral_segment AS segment, count(*) AS n, round(avg(engagement_score), 1) AS engagement,
            round(avg(churn_risk_score), 1) AS churn
     FROM user_scores GROUP BY behavioral_segment`,
  );
  const sizeOf = new Map(sizes.map((row) => [row.segment, row]));
  const segments = BEHAVIORAL_SEGMENTS.map((segment, i) => {
    const row = sizeOf.get(segment.id);
    const size = row?.n ?? 0;
    const play = SEGMENT_PLAYS[segment.id];
    const criteria =
      segment.criteria.length === 0
        ? ['active in the last 7 days and matching none of the segments above']
        : segment.criteria.map((c) => c.label);
    return {
      index: i + 1,
      id: segment.id,
      name: segment.label,
      criteria: segment.match === 'any' && criteria.length > 1 ? [criteria.join(', or ')] : criteria,
      size,
      share: percent(size, totalUsers),
      avgEngagement: row?.engagement ?? null,
      avgChurnRisk: row?.churn ?? null,
      warning:
        size < MIN_SEGMENT_SIZE
          ? size === 0
            ? 'No user is in this segment as of this day.'
            : `Only ${size} users: below ${MIN_SEGMENT_SIZE}, so rates measured on this segment are unreliable.`
          : null,
      action: play.action,
      successMetric: play.successMetric,
    };
  });

  const signalCounts = await ws.queryOne<Record<string, number>>(
    `SELECT count(*) FILTER (WHERE at_risk) AS at_risk,
      ${AT_RISK_SIGNALS.map((s) => `count(*) FILTER (WHERE list_contains(at_risk_signals, '${s.id}')) AS ${s.id}`).join(', ')}
     FROM user_scores`,
  );
  const atRiskCount = signalCounts?.at_risk ?? 0;
  const examples = atRiskCount > 0 ? await findUsers(ws, { atRisk: true, orderBy: 'churn_risk_score', limit: 5 }) : undefined;

  const models: StrategyDocument['models'] = [];
  for (const model of orderedModels(settings)) {
    const missing = new Set(run.models[model.id]?.missingComponents ?? []);
    const tierCounts = await ws.query<{ tier: string; n: number }>(
      `SELECT ${model.id}_tier AS tier, count(*) AS n FROM user_scores GROUP BY 1`,
    );
    const countOf = new Map(tierCounts.map((row) => [row.tier, row.n]));
    models.push({
      label: model.label,
      totalRule: run.models[model.id]?.totalRule ?? '',
      components: model.components.map((component, index) => ({
        label: component.label,
        max: component.max,
        window: component.window,
        bands: describeBands(model, index),
        missing: missing.has(component.id),
      })),
      tiers: [...model.tiers].reverse().map((tier, index, list) => {
        const upper = index === 0 ? model.max : list[index - 1].min - 1;
        const count = countOf.get(tier.name) ?? 0;
        return { name: tier.label, range: `${tier.min}-${upper}`, count, share: percent(count, totalUsers) };
      }),
    });
  }

  const rfmRows = await ws.query<{ segment: string; n: number }>(
    'SELECT rfm_segment AS segment, count(*) AS n FROM user_scores GROUP BY 1 ORDER BY n DESC',
  );

  const lifecycleRows = await ws.query<{ stage: string; n: number }>(
    'SELECT lifecycle_stage AS stage, count(*) AS n FROM user_scores GROUP BY 1 ORDER BY n DESC',
  );
  const dormantRows = await ws.query<{ subsegment: string; n: number }>(
    'SELECT dormant_subsegment AS subsegment, count(*) AS n FROM user_scores WHERE dormant_subsegment IS NOT NULL GROUP BY 1 ORDER BY n DESC',
  );

  const largest = [...segments].filter((s) => s.size > 0).sort((a, b) => b.size - a.size).slice(0, 3);
  const touchpoints: [string, keyof (typeof SEGMENT_PLAYS)[string]][] = [
    ['Onboarding', 'onboarding'],
    ['In-product messaging', 'inProduct'],
    ['Email campaigns', 'email'],
    ['Upgrade prompts', 'upgrade'],
  ];

  return {
    generatedAt: new Date().toISOString(),
    asOf: run.asOf,
    timeZone: run.timeZone,
    totalUsers,
    goals: {
      primary: answers.decisions ?? 'Not stated yet: ask which decisions segmentation should inform (save_diagnostic_answers).',
      questions: [
        'Who is at risk of churning this week, and why?',
        'Which users are ready for an upgrade or a sales conversation?',
        ...(answers.activation_metric ? [`Which users reached activation (${answers.activation_metric})?`] : []),
      ],
      stated: answers.decisions !== undefined,
    },
    context: [
      ['Channels to act on segments', answers.activation_channels],
      ['Existing groups (plans, roles, use cases)', answers.implicit_segments],
      ['Engagement data tracked', answers.engagement_data],
      ['Churn signals available', answers.churn_signals],
      ['Active users (as stated)', answers.active_users],
    ]
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].trim() !== '')
      .map(([label, answer]) => ({ label, answer })),
    sources,
    gaps,
    segments,
    atRisk: {
      count: atRiskCount,
      share: percent(atRiskCount, totalUsers),
      signals: AT_RISK_SIGNALS.map((s) => ({ label: s.label, count: signalCounts?.[s.id] ?? 0 })),
      examples: (examples?.users ?? []).map((user) => ({ userId: user.userId, reasons: user.reasons.join('; ') })),
    },
    models,
    rfm: rfmRows.map((row) => ({ segment: row.segment, count: row.n, share: percent(row.n, totalUsers) })),
    lifecycle: lifecycleRows.map((row) => ({ stage: row.stage, count: row.n, share: percent(row.n, totalUsers) })),
    dormant: dormantRows.map((row) => ({ subsegment: row.subsegment, count: row.n, share: percent(row.n, totalUsers) })),
    playbookSegments: largest.map((s) => s.name),
    playbook: touchpoints.map(([touchpoint, key]) => ({
      touchpoint,
      cells: largest.map((s) => SEGMENT_PLAYS[s.id][key]),
    })),
  };
}
