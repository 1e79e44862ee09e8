import type { ScoringRun } from '../scoring/index.js';
import type { Workspace } from '../workspace/index.js';

/** The eight questions to settle before designing segments, in this project's words. */
export const DIAGNOSTIC_QUESTIONS = [
  {
    id: 'data_sources',
    question: 'Which data about users do you have: profile fields, product events, billing, company (firmographic) data?',
    why: 'The data decides which segments and scores can be computed at all.',
  },
  {
    id: 'active_users',
    question: 'How many active users do you have?',
    why: 'A segment needs at least 100 to 200 users before its numbers mean anything.',
  },
  {
    id: 'activation_channels',
    question: 'Can you act on a segment: target emails, in-product messages, features or experiences to it?',
    why: 'A segment nobody can reach is only a report.',
  },
  {
    id: 'decisions',
    question: 'Which decisions should segmentation inform: onboarding, messaging, pricing, sales outreach, roadmap?',
    why: 'The decision picks the dimensions worth segmenting on.',
  },
  {
    id: 'implicit_segments',
    question: 'Which groups exist already: plans, roles, use cases that split users naturally?',
    why: 'Existing groups are the cheapest first segments.',
  },
  {
    id: 'activation_metric',
    question: 'What is your activation metric: which actions mean a user got value?',
    why: 'Lifecycle stages depend on knowing who is activated.',
  },
  {
    id: 'engagement_data',
    question: 'Which engagement data do you track: feature usage, session frequency, depth of use?',
    why: 'Engagement scoring needs frequency, breadth, depth and recency.',
  },
  {
    id: 'churn_signals',
    question: 'Which churn signals do you have: declining usage, support tickets, failed payments?',
    why: 'The churn-risk score combines usage, support and billing signals.',
  },
] as const;

export type DiagnosticId = (typeof DIAGNOSTIC_QUESTIONS)[number]['id'];

export interface DiagnosticAnswer {
  readonly id: DiagnosticId;
  readonly question: string;
  readonly why: string;
  /** Answer derived from the loaded data, when the data can answer the question. */
  readonly fromData?: string;
  /** Answer stored by the user with save_diagnostic_answers. */
  readonly fromUser?: string;
}

const ANSWERS_KEY = 'diagnostic_answers';

export async function saveDiagnosticAnswers(
  ws: Workspace,
  answers: Partial<Record<DiagnosticId, string>>,
): Promise<Partial<Record<DiagnosticId, string>>> {
  const current = (await ws.getMeta<Partial<Record<DiagnosticId, string>>>(ANSWERS_KEY)) ?? {};
  const next = { ...current, ...answers };
  await ws.setMeta(ANSWERS_KEY, next);
  return next;
}

export async function loadDiagnosticAnswers(ws: Workspace): Promise<Partial<Record<DiagnosticId, string>>> {
  return (await ws.getMeta<Partial<Record<DiagnosticId, string>>>(ANSWERS_KEY)) ?? {};
}

/** Returns the questions with the answers derived from the data and those the user stored. */
export async function diagnosticQuestions(ws: Workspace): Promise<DiagnosticAnswer[]> {
  const fromData = await answersFromData(ws);
  const fromUser = await loadDiagnosticAnswers(ws);
  return DIAGNOSTIC_QUESTIONS.map((q) => ({
    id: q.id,
    question: q.question,
    why: q.why,
    ...(fromData[q.id] ? { fromData: fromData[q.id] } : {}),
    ...(fromUser[q.id] ? { fromUser: fromUser[q.id] } : {}),
  }));
}

async function answersFromData(ws: Workspace): Promise<Partial<Record<DiagnosticId, string>>> {
  const answers: Partial<Record<DiagnosticId, string>> = {};
  const counts: Record<string, number> = {};
  for (const table of ['events', 'users', 'billing', 'support', 'nps']) counts[table] = await ws.rowCount(table);
  const loaded = Object.entries(counts).filter(([, n]) => n > 0);
  if (loaded.length === 0) return answers;

  answers.data_sources = `Loaded: ${loaded.map(([table, n]) => `${table} (${n.toLocaleString('en-US')} rows)`).join(', ')}.`;
  const missing = Object.entries(counts).filter(([, n]) => n === 0).map(([table]) => table);
  if (missing.length > 0) answers.data_sources += ` Not loaded: ${missing.join(', ')}.`;

  if (counts.events > 0) {
    const activity = await ws.queryOne<{ last_day: string; users: number; active_30: number; active_7: number; events: number }>(`
      WITH last AS (SELECT max(ts)::DATE AS d FROM events)
      SELECT
        (SELECT d FROM last)::VARCHAR AS last_day,
        count(DISTINCT user_id) AS users,
        count(DISTINCT user_id) FILTER (WHERE ts::DATE > (SELECT d FROM last) - 30) AS active_30,
        count(DISTINCT user_id) FILTER (WHERE ts::DATE > (SELECT d FROM last) - 7) AS active_7,
        count(DISTINCT event) AS events
      FROM events`);
    if (activity) {
      answers.active_users =
        `${activity.active_30.toLocaleString('en-US')} users were active in the 30 days up to ${activity.last_day} ` +
        `(${activity.active_7.toLocaleString('en-US')} in the last 7), out of ${activity.users.toLocaleString('en-US')} who ever appear in the events.`;
      answers.engagement_data = `The events hold ${activity.events} distinct event names.`;
    }
  }
  if (counts.users > 0) {
    const plans = await ws.query<{ plan: string; n: number }>(
      'SELECT plan, count(*) AS n FROM users WHERE plan IS NOT NULL GROUP BY plan ORDER BY n DESC LIMIT 8',
    );
    if (plans.length > 0) {
      answers.implicit_segments = `Plans in the users file: ${plans.map((p) => `${p.plan} (${p.n})`).join(', ')}.`;
    }
  }
  const signals: string[] = [];
  if (counts.events > 0) signals.push('usage decline can be measured from the events');
  if (counts.support > 0) signals.push(`${counts.support} support tickets`);
  if (counts.billing > 0) signals.push(`${counts.billing} billing records`);
  answers.churn_signals = `Available: ${signals.join('; ')}.`;
  const run = await ws.getMeta<ScoringRun>('scoring');
  if (run) {
    const gaps = Object.values(run.inputs).filter((input) => !input.available).map((input) => input.detail);
    if (gaps.length > 0) answers.churn_signals += ` Gaps: ${gaps.join(' ')}`;
  }
  return answers;
}
