import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compileSegment, parseRules, type CompileContext } from '../src/rules/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { AS_OF, createRuleTables, dailyFacts, members, openRuleWorkspace, type FactRow } from './helpers/rule-tables.js';

// The boundary T is Monday 2024-03-11: "day n" below means n days before T, so day 1 is
// Sunday 2024-03-10, the last day every window includes.
const FACTS: FactRow[] = [
  // power: a session every day for 28 days, eight distinct features in the last 30 days.
  ...dailyFacts('power', 'edit', 28),
  ...['export', 'share', 'comment', 'search', 'report', 'invite', 'dashboard'].map(
    (event): FactRow => [ 'power', event, '2024-03-09', 'power-2024-03-09' ]),
  // decliner: daily on days 8 to 28, then a single session on day 2; pricing viewed on days 20 and 3.
  ...dailyFacts('decliner', 'edit', 21, 8),
  ['decliner', 'edit', '2024-03-09', 'decliner-2024-03-09'],
  ['decliner', 'pricing_page_view', '2024-02-20', 'decliner-2024-02-20'],
  ['decliner', 'pricing_page_view', '2024-03-08', 'decliner-2024-03-08'],
  // dormant: four sessions 40 to 50 days before T.
  ['dormant', 'edit', '2024-01-21', 'dormant-1'],
  ['dormant', 'edit', '2024-01-26', 'dormant-2'],
  ['dormant', 'edit', '2024-01-30', 'dormant-3'],
  ['dormant', 'edit', '2024-01-31', 'dormant-4'],
  // newbie: signed up on day 2, one session on day 1 with a first pricing view.
  ['newbie', 'edit', '2024-03-10', 'newbie-1'],
  ['newbie', 'pricing_page_view', '2024-03-10', 'newbie-1'],
  // quitter: daily on days 8 to 12, nothing since.
  ...dailyFacts('quitter', 'edit', 5, 8),
  // returner: active on day 30, then nothing until day 3.
  ['returner', 'edit', '2024-02-10', 'returner-1'],
  ['returner', 'edit', '2024-03-08', 'returner-2'],
];

const USERS = [
  { id: 'power', plan: 'Pro', signup: '2023-12-01 09:00:00' },
  { id: 'decliner', plan: 'free', signup: '2024-01-01 09:00:00' },
  { id: 'dormant', plan: 'starter', signup: '2023-06-01 09:00:00' },
  { id: 'newbie', plan: 'trial', signup: '2024-03-09 09:00:00' },
  { id: 'quitter', plan: 'pro', signup: '2024-01-15 09:00:00' },
  { id: 'returner', plan: 'enterprise', signup: '2023-11-01 09:00:00' },
  { id: 'ghost', plan: null, signup: '2024-02-01 09:00:00' },
];

const SCORES = [
  { id: 'power', engagement: 85, percentageOfLimit: 0.5 },
  { id: 'decliner', engagement: 65, percentageOfLimit: 0.8, atRisk: true },
  { id: 'newbie', engagement: 70 },
  { id: 'quitter', engagement: 40, atRisk: true },
  { id: 'ghost', engagement: null },
];

const context: CompileContext = { asOf: AS_OF };
let ws: Workspace;

beforeAll(async () => {
  ws = await openRuleWorkspace();
  await createRuleTables(ws, { facts: FACTS, users: USERS, scores: SCORES, totalFeatures: 10 });
});

afterAll(() => ws.close());

function compile(source: string, ctx: CompileContext = context) {
  return compileSegment(parseRules(source, 'test.seg')[0], ctx);
}

describe('exact SQL', () => {
  test('methodology Power Users rule', async () => {
    const compiled = compile(`
      segment "Power Users" {
        conditions {
          events.session_count(last_7_days) >= 5
          AND events.unique_features_used(last_30_days) >= 0.7 * total_features
          AND user.days_since_signup >= 30
        }
        refresh: daily
      }`, { asOf: AS_OF, nonFeatureEvents: ['login'] });

    expect(compiled.sql).toBe(
      [
        'WITH event_windows AS (',
        '  SELECT',
        '    user_id,',
        '    count(DISTINCT session_key) FILTER (WHERE local_date >= CAST($1 AS DATE) - $2 AND local_date < CAST($1 AS DATE)) AS a1,',
        '    count(DISTINCT event) FILTER (WHERE event NOT IN ($5) AND local_date >= CAST($1 AS DATE) - $4 AND local_date < CAST($1 AS DATE)) AS a2',
        '  FROM event_facts',
        '  WHERE local_date < CAST($1 AS DATE)',
        '  GROUP BY user_id',
        ')',
        'SELECT m.user_id',
        'FROM user_metrics AS m',
        'LEFT JOIN event_windows AS e ON e.user_id = m.user_id',
        'WHERE (((coalesce(e.a1, 0) >= CAST($3 AS DOUBLE)) AND coalesce(coalesce(e.a2, 0) >= (CAST($6 AS DOUBLE) * m."total_features"), false)) ' +
          'AND coalesce(m."days_since_signup" >= CAST($4 AS DOUBLE), false))',
        'ORDER BY m.user_id',
      ].join('\n'),
    );
    expect(compiled.params).toEqual([AS_OF, 7, 5, 30, 'login', 0.7]);
    expect(await members(ws, compiled)).toEqual(['power']);
  });

  test('string comparison, NOT and missing plan', async () => {
    const compiled = compile('segment "Plans" { conditions { user.plan = "pro" OR NOT user.plan = "free" } }');

    expect(compiled.sql).toBe(
      [
        'SELECT m.user_id',
        'FROM user_metrics AS m',
        'LEFT JOIN users AS u ON u.user_id = m.user_id',
        'WHERE (coalesce(lower(u."plan") = lower($1), false) OR (NOT coalesce(lower(u."plan") = lower($2), false)))',
        'ORDER BY m.user_id',
      ].join('\n'),
    );
    expect(compiled.params).toEqual(['pro', 'free']);
    // "Pro" matches "pro"; ghost has no plan, so `plan = "free"` is false and NOT makes it a member.
    expect(await members(ws, compiled)).toEqual(['dormant', 'ghost', 'newbie', 'power', 'quitter', 'returner']);
  });

  test('first_time and stopped', async () => {
    const compiled = compile(
      'segment "S" { conditions { events.first_time("pricing_page_view", last_7_days) OR events.stopped(last_7_days) } }',
    );

    expect(compiled.sql).toBe(
      [
        'WITH event_windows AS (',
        '  SELECT',
        '    user_id,',
        '    min(local_date) FILTER (WHERE event = $1) AS a1,',
        '    count(*) FILTER (WHERE local_date >= CAST($2 AS DATE) - $3 AND local_date < CAST($2 AS DATE)) AS a2,',
        '    count(*) FILTER (WHERE local_date >= CAST($2 AS DATE) - $4 AND local_date < CAST($2 AS DATE) - $3) AS a3',
        '  FROM event_facts',
        '  WHERE local_date < CAST($2 AS DATE)',
        '  GROUP BY user_id',
        ')',
        'SELECT m.user_id',
        'FROM user_metrics AS m',
        'LEFT JOIN event_windows AS e ON e.user_id = m.user_id',
        'WHERE (coalesce(e.a1 >= CAST($2 AS DATE) - $3 AND e.a1 < CAST($2 AS DATE), false) OR (coalesce(e.a2, 0) = 0 AND coalesce(e.a3, 0) > 0))',
        'ORDER BY m.user_id',
      ].join('\n'),
    );
    expect(compiled.params).toEqual(['pricing_page_view', AS_OF, 7, 14]);
    // newbie viewed pricing for the first time on day 1; decliner first did on day 20.
    // quitter was active on days 8-12 only.
    expect(await members(ws, compiled)).toEqual(['newbie', 'quitter']);
  });

  test('date attribute against a date string', async () => {
    const compiled = compile('segment "S" { conditions { user.signup_date >= "2024-01-01" AND scores.at_risk } }');

    expect(compiled.sql).toBe(
      [
        'SELECT m.user_id',
        'FROM user_metrics AS m',
        'LEFT JOIN user_scores AS s ON s.user_id = m.user_id',
        'WHERE (coalesce(m."signup_date" >= CAST($1 AS DATE), false) AND coalesce(s."at_risk", false))',
        'ORDER BY m.user_id',
      ].join('\n'),
    );
    expect(compiled.params).toEqual(['2024-01-01']);
    expect(await members(ws, compiled)).toEqual(['decliner', 'quitter']);
  });
});

describe('members on hand-made tables', () => {
  test.each([
    {
      name: 'methodology At Risk rule',
      rule: `events.session_count(last_7_days) < 0.5 * events.avg_weekly_sessions(last_28_days)
             AND events.avg_weekly_sessions(last_28_days) >= 2`,
      // decliner: 1 session last week against 22 * 7 / 28 = 5.5 a week.
      expected: ['decliner'],
    },
    {
      name: 'methodology Expansion Ready rule',
      rule: `scores.engagement >= 60
             AND (usage.percentage_of_limit >= 0.7
                  OR events.pricing_page_view(last_14_days) >= 1
                  OR events.locked_feature_click(last_14_days) >= 1)`,
      expected: ['decliner', 'newbie'],
    },
    { name: 'not equal skips a missing plan', rule: 'user.plan != "free"', expected: ['dormant', 'newbie', 'power', 'quitter', 'returner'] },
    { name: 'percentage literal', rule: 'usage.percentage_of_limit >= 80%', expected: ['decliner'] },
    { name: 'started_again after a gap', rule: 'events.started_again(last_7_days)', expected: ['returner'] },
    { name: 'regularly 3 of 4 weeks', rule: 'events.regularly(3, 4, weeks)', expected: ['decliner', 'power'] },
    { name: 'regularly 10 of 10 days', rule: 'events.regularly(10, 10, days)', expected: ['power'] },
    {
      name: 'used_at_least two of three',
      rule: 'events.used_at_least(2, ["export", "share", "comment"], last_30_days)',
      expected: ['power'],
    },
    // this_month runs from 2024-03-01 to 2024-03-10.
    { name: 'this_month active days', rule: 'events.active_days(this_month) >= 3', expected: ['decliner', 'power', 'quitter'] },
    // this_week runs from Monday 2024-03-04 to Sunday 2024-03-10.
    // decliner has two sessions in it (2024-03-08 and 2024-03-09).
    { name: 'this_week sessions', rule: 'events.session_count(this_week) = 1', expected: ['newbie', 'returner'] },
    { name: 'previous window', rule: 'events.session_count(previous_7_days) >= 5', expected: ['decliner', 'power', 'quitter'] },
    {
      name: 'division by zero is false',
      rule: 'events.session_count(last_7_days) / events.session_count(previous_7_days) < 50%',
      expected: ['decliner', 'quitter'],
    },
    { name: 'count by quoted name', rule: 'events.count("pricing_page_view", last_30_days) = 2', expected: ['decliner'] },
    { name: 'days since last activity', rule: 'events.days_since_last_activity >= 30', expected: ['dormant'] },
    { name: 'arithmetic and negation', rule: '-user.days_since_signup + 10 > 5 AND true', expected: ['newbie'] },
    { name: 'boolean comparison', rule: 'scores.at_risk = false AND user.plan = "PRO"', expected: ['power'] },
    { name: 'never active users have no events', rule: 'NOT events.active_days(last_730_days) >= 1', expected: ['ghost'] },
  ])('$name', async ({ rule, expected }) => {
    const compiled = compile(`segment "S" { conditions { ${rule} } }`);
    expect(await members(ws, compiled)).toEqual(expected);
  });
});

describe('parameters', () => {
  test('every literal is bound, none in the SQL text', () => {
    const compiled = compile(`segment "S" { conditions {
      user.country = "x'; DROP TABLE users; --" AND events.count("a\\"b", last_3_months) > 1234.5
    } }`);
    expect(compiled.sql).not.toContain('DROP');
    expect(compiled.sql).not.toContain('1234.5');
    expect(compiled.sql).not.toContain("'");
    expect(compiled.params).toEqual(["x'; DROP TABLE users; --", 'a"b', AS_OF, 90, 1234.5]);
  });

  test('repeated values share one parameter', () => {
    const compiled = compile('segment "S" { conditions { events.active_days(last_7_days) >= 7 AND events.session_count(last_7_days) >= 7 } }');
    expect(compiled.params).toEqual([AS_OF, 7]);
  });

  test.each(['2024-13-45', '2024-02-30', '11/03/2024', "2024-03-11'; --"])('invalid as-of date %s is rejected', (asOf) => {
    expect(() => compile('segment "S" { conditions { true } }', { asOf })).toThrow(
      `Invalid as-of date "${asOf}"; write it as YYYY-MM-DD.`,
    );
  });

  test('a rule with errors throws the first', () => {
    expect(() => compile('segment "S" { conditions { user.plam = "x" } }')).toThrow(
      'test.seg:1:33: Unknown attribute "user.plam"',
    );
  });
});
