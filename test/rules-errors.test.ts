import { describe, expect, test } from 'vitest';
import {
  checkSegment,
  checkSegments,
  formatRuleError,
  formatRuleErrors,
  parseRules,
  RuleError,
  type CheckContext,
} from '../src/rules/index.js';
import { UserInputError } from '../src/workspace/index.js';

const EVENTS: CheckContext = { eventNames: ['pricing_page_view', 'locked_feature_click', 'invite_sent'] };

/** Parses and checks `source`, and renders every error the way a caller shows it. */
function render(source: string, context: CheckContext = EVENTS): string {
  try {
    return formatRuleErrors(parseRules(source, 'rules.seg').flatMap((segment) => checkSegment(segment, context)));
  } catch (error) {
    if (error instanceof RuleError) return formatRuleError(error);
    throw error;
  }
}

const lines = (...text: string[]) => text.join('\n');

describe('syntax errors', () => {
  test.each([
    {
      name: 'single quotes',
      source: 'segment "A" {\n  conditions {\n    user.plan = \'pro\'\n  }\n}',
      expected: lines(
        'rules.seg:3:17: Unexpected character "\'". Strings are written in double quotes.',
        "    user.plan = 'pro'",
        '                ^',
      ),
    },
    {
      name: 'semicolon',
      source: 'segment "A" {\n  conditions {\n    user.plan = "pro"; DROP TABLE users\n  }\n}',
      expected: lines(
        'rules.seg:3:22: Unexpected character ";". Rules need no semicolons.',
        '    user.plan = "pro"; DROP TABLE users',
        '                     ^',
      ),
    },
    {
      name: 'missing closing brace',
      source: 'segment "A" {\n  conditions {\n    user.plan = "pro"\n  }\n',
      expected: lines(
        'rules.seg:5:1: Expected a field (conditions, refresh, description, action) or "}", found end of input.',
        '',
        '^',
      ),
    },
    {
      name: 'misspelt field',
      source: 'segment "A" {\n  conditons {\n  }\n}',
      expected: lines(
        'rules.seg:2:3: Unknown field "conditons" in segment "A"; the fields are conditions, refresh, description and action. Did you mean "conditions"?',
        '  conditons {',
        '  ^^^^^^^^^',
      ),
    },
    {
      name: 'unquoted segment name',
      source: 'segment A {}',
      expected: lines('rules.seg:1:9: Expected the segment name in double quotes, found name "A".', 'segment A {}', '        ^'),
    },
    {
      name: 'unterminated string',
      source: 'segment "A" {\n  conditions {\n    user.plan = "pro\n  }\n}',
      expected: lines(
        'rules.seg:3:17: Unterminated string: add the closing " on the same line.',
        '    user.plan = "pro',
        '                ^^^^',
      ),
    },
    {
      name: 'number glued to a name',
      source: 'segment "A" {\n  conditions {\n    7days > 1\n  }\n}',
      expected: lines(
        'rules.seg:3:5: Invalid number "7d": a number must be followed by a space, an operator or a bracket.',
        '    7days > 1',
        '    ^^',
      ),
    },
    {
      name: 'unknown escape',
      source: 'segment "A" {\n  conditions {\n    "a\\x" = "b"\n  }\n}',
      expected: lines(
        'rules.seg:3:7: Invalid escape sequence "\\x" in a string; the escapes are \\", \\\\, \\n and \\t.',
        '    "a\\x" = "b"',
        '      ^^',
      ),
    },
    {
      name: 'block comment',
      source: 'segment "A" {\n  conditions {\n    a /* b */ = 1\n  }\n}',
      expected: lines('rules.seg:3:8: Expected an expression, found "*".', '    a /* b */ = 1', '       ^'),
    },
    {
      name: 'C-style operator',
      source: 'segment "A" {\n  conditions {\n    a && b\n  }\n}',
      expected: lines('rules.seg:3:7: Unexpected character "&". Write AND or OR.', '    a && b', '      ^'),
    },
    {
      name: 'empty conditions',
      source: 'segment "A" {\n  conditions {\n  }\n}',
      expected: lines('rules.seg:3:3: Expected an expression, found "}".', '  }', '  ^'),
    },
    {
      name: 'keyword where an operand belongs',
      source: 'segment "A" { conditions { a AND OR b } }',
      expected: lines(
        'rules.seg:1:34: Expected an expression, found name "OR".',
        'segment "A" { conditions { a AND OR b } }',
        '                                 ^^',
      ),
    },
    {
      name: 'tab before the error keeps the caret aligned',
      source: 'segment "A" {\n\tconditions {\n\t\tuser.plan = @\n\t}\n}',
      expected: lines('rules.seg:3:15: Unexpected character "@".', '\t\tuser.plan = @', '\t\t            ^'),
    },
  ])('$name', ({ source, expected }) => {
    expect(render(source)).toBe(expected);
  });

  test('too deep nesting is a rule error', () => {
    const source = `segment "A" { conditions { ${'('.repeat(100)}true${')'.repeat(100)} } }`;
    expect(() => parseRules(source, 'deep.seg')).toThrow(RuleError);
    expect(() => parseRules(source, 'deep.seg')).toThrow('deep.seg:1:93: Expression is nested more than 64 levels deep');
  });

  test('too many operators is a rule error', () => {
    const source = `segment "A" { conditions { ${Array(1002).fill('true').join(' AND ')} } }`;
    expect(() => parseRules(source, 'long.seg')).toThrow('Conditions hold more than 1000 operators; split the rule into several segments.');
  });

  test('comparisons do not chain', () => {
    expect(render('segment "A" { conditions { a = 1 = true } }')).toBe(
      lines('rules.seg:1:34: Expected "}", found "=".', 'segment "A" { conditions { a = 1 = true } }', '                                 ^'),
    );
  });

  test('rule errors are user input errors', () => {
    expect(() => parseRules('segment', 'x.seg')).toThrow(UserInputError);
  });
});

describe('meaning errors', () => {
  test('collects several errors with suggestions at once', () => {
    const source = lines(
      'segment "A" {',
      '  conditions {',
      '    events.sesion_count(last_7_days) >= 5',
      '    AND user.plam = "pro"',
      '    AND scores.engagment > 5',
      '  }',
      '  refresh: dayly',
      '}',
    );
    expect(render(source)).toBe(
      lines(
        'rules.seg:3:12: Unknown function or event "events.sesion_count": it is not a function, and the workspace has no event of that name. ' +
          'Did you mean "events.session_count"? To count an event with this name, write events.count("sesion_count", last_7_days).',
        '    events.sesion_count(last_7_days) >= 5',
        '           ^^^^^^^^^^^^',
        '',
        'rules.seg:4:14: Unknown attribute "user.plam"; user has plan, role, company, company_size, industry, country, seats, account_id, ' +
          'signup_date, first_active_date, last_active_date, days_since_signup, days_since_last_active. Did you mean "user.plan"?',
        '    AND user.plam = "pro"',
        '             ^^^^',
        '',
        'rules.seg:5:16: Unknown attribute "scores.engagment"; scores has engagement, engagement_tier, activation, activation_tier, ' +
          'expansion, expansion_tier, churn_risk, churn_risk_tier, rfm_r, rfm_f, rfm_m, rfm_code, rfm_segment, behavioral_segment, ' +
          'lifecycle_stage, at_risk, at_risk_signal_count, plan_value. Did you mean "scores.engagement"?',
        '    AND scores.engagment > 5',
        '               ^^^^^^^^^',
        '',
        'rules.seg:7:12: Unknown refresh cadence "dayly"; use daily, weekly or monthly. Did you mean "daily"?',
        '  refresh: dayly',
        '           ^^^^^',
      ),
    );
  });

  test('types, unknown events and windows', () => {
    const source = 'segment "B" {\n  conditions {\n    user.plan > 5 AND events.count("pricing_pag_view", last_0_days) >= 1\n  }\n}';
    expect(render(source)).toBe(
      lines(
        'rules.seg:3:5: Cannot compare a string with a number: `user.plan` is a string and `5` is a number.',
        '    user.plan > 5 AND events.count("pricing_pag_view", last_0_days) >= 1',
        '    ^^^^^^^^^^^^^',
        '',
        'rules.seg:3:36: Unknown event "pricing_pag_view": the workspace has no event of that name. Did you mean "pricing_page_view"?',
        '    user.plan > 5 AND events.count("pricing_pag_view", last_0_days) >= 1',
        '                                   ^^^^^^^^^^^^^^^^^^',
        '',
        'rules.seg:3:56: Window last_0_days is out of range: it covers 0 days, and a window covers 1 to 730 days.',
        '    user.plan > 5 AND events.count("pricing_pag_view", last_0_days) >= 1',
        '                                                       ^^^^^^^^^^^',
      ),
    );
  });

  test('shorthand event unknown to the workspace', () => {
    const source = 'segment "E" { conditions { events.pricing_page_views(last_7_days) > 1 } }';
    expect(render(source)).toBe(
      lines(
        'rules.seg:1:35: Unknown function or event "events.pricing_page_views": it is not a function, and the workspace has no event of ' +
          'that name. Did you mean "events.pricing_page_view"?',
        source,
        '                                  ^^^^^^^^^^^^^^^^^^',
      ),
    );
  });

  test('shorthand events are accepted without a workspace event list', () => {
    expect(render('segment "E" { conditions { events.anything_at_all(last_7_days) > 1 } }', {})).toBe('');
  });

  test.each([
    {
      rule: 'events.session_count(last_7_days)',
      message: 'The conditions of segment "S" must be true or false, but `events.session_count(last_7_days)` is a number. ' +
        'Compare it with a value, e.g. `… >= 1`.',
    },
    {
      rule: 'scores.at_risk AND events.session_count(last_7_days)',
      message: 'AND needs true/false conditions, but `events.session_count(last_7_days)` is a number. Compare it with a value, e.g. `… >= 1`.',
    },
    { rule: 'user.plan + 1 > 2', message: '"+" needs numbers, but `user.plan` is a string.' },
    { rule: 'user.plan < "b"', message: 'Operator "<" does not apply to strings; use = or !=.' },
    { rule: 'usr.plan = "x"', message: 'Unknown namespace "usr" in "usr.plan"; the namespaces are user, scores, usage and events. Did you mean "user"?' },
    {
      rule: 'total_feature > 1',
      message: 'Unknown name "total_feature"; a bare name is a constant (total_features) or a window such as last_7_days. Did you mean "total_features"?',
    },
    { rule: 'user.days_since_signup() > 1', message: '"user.days_since_signup" is a value, not a function; remove the parentheses.' },
    { rule: 'events.session_count > 1', message: '"events.session_count" is a function and needs its arguments, e.g. events.session_count(last_7_days) >= 5.' },
    {
      rule: 'events.session_count(last_7_days, 3) > 1',
      message: 'events.session_count takes 1 argument (window), found 2; e.g. events.session_count(last_7_days) >= 5.',
    },
    {
      rule: 'events.regularly(3, 4, wekks)',
      message: 'Argument "period" of events.regularly must be days, weeks or months; found `wekks`. Did you mean "weeks"?',
    },
    { rule: 'events.regularly(5, 4, weeks)', message: 'events.regularly asks for activity in 5 of 4 periods; m must be at most n.' },
    { rule: 'events.regularly(1, 200, weeks)', message: 'events.regularly spans 1400 days; n periods may cover at most 730 days.' },
    {
      rule: 'events.used_at_least(3, ["invite_sent"], last_7_days)',
      message: 'events.used_at_least asks for 3 of 1 listed events; n must be at most the number of events listed.',
    },
    { rule: 'events.used_at_least(1, [], last_7_days)', message: 'Argument "events" of events.used_at_least is an empty list; list at least one event.' },
    { rule: 'events.used_at_least(1.5, ["invite_sent"], last_7_days)', message: 'Argument "n" of events.used_at_least must be a whole number from 1 to 730; found `1.5`.' },
    { rule: 'events.stopped(this_week)', message: 'events.stopped needs a window of fixed length such as last_7_days; this_week has none.' },
    { rule: 'events.session_count(last_25_months) > 1', message: 'Window last_25_months is out of range: it covers 750 days, and a window covers 1 to 730 days.' },
    {
      rule: 'events.session_count(last_3_monthz) > 1',
      message: 'Argument "window" of events.session_count must be a window such as last_7_days; found `last_3_monthz`. Did you mean "last_3_months"?',
    },
    {
      rule: 'events.first_time(invite_sent, last_7_days)',
      message: 'Argument "event" of events.first_time must be an event name in double quotes; found `invite_sent`. Write it in double quotes: "invite_sent".',
    },
    { rule: 'last_7_days', message: 'The window last_7_days can only be an argument of an events function, e.g. events.session_count(last_7_days).' },
    { rule: 'user.signup_date > "2024-02-30"', message: 'Invalid date "2024-02-30"; write dates as "YYYY-MM-DD".' },
    { rule: 'user.plan.name = "x"', message: 'Name "user.plan.name" has too many parts; names have the form namespace.attribute, e.g. user.plan.' },
    { rule: '2000000000000 > 1', message: 'Number 2000000000000 is out of range; numbers must lie between -1000000000000 and 1000000000000.' },
    { rule: 'events.count("", last_7_days) > 1', message: 'Event name is empty; name the event, e.g. "pricing_page_view".' },
    { rule: 'user > 1', message: '"user" is a namespace; name one of its attributes, e.g. user.plan.' },
    { rule: 'weeks', message: 'The period "weeks" can only be the last argument of events.regularly.' },
    {
      rule: 'scores.at_risk = 1',
      message: 'Cannot compare true or false with a number: `scores.at_risk` is true or false and `1` is a number.',
    },
  ])('$rule', ({ rule, message }) => {
    const [segment] = parseRules(`segment "S" { conditions { ${rule} } }`, 'rules.seg');
    const errors = checkSegment(segment, EVENTS);
    expect(errors.map((error) => error.description)).toEqual([message]);
  });

  test('names of Object.prototype are unknown', () => {
    const [segment] = parseRules(
      'segment "S" { conditions { constructor > 1 OR user.toString = "x" OR events.regularly(1, 2, constructor) OR events.__proto__(last_7_days) > 0 } }',
      'rules.seg',
    );
    expect(checkSegment(segment, EVENTS).map((error) => error.description)).toEqual([
      'Unknown name "constructor"; a bare name is a constant (total_features) or a window such as last_7_days.',
      'Unknown attribute "user.toString"; user has plan, role, company, company_size, industry, country, seats, account_id, ' +
        'signup_date, first_active_date, last_active_date, days_since_signup, days_since_last_active.',
      'Argument "period" of events.regularly must be days, weeks or months; found `constructor`.',
      'Unknown function or event "events.__proto__": it is not a function, and the workspace has no event of that name.',
    ]);
  });

  test('missing conditions and duplicate fields', () => {
    expect(render('segment "A" {\n  refresh: daily\n  refresh: weekly\n}')).toBe(
      lines(
        'rules.seg:1:9: Segment "A" has no conditions; add "conditions { … }".',
        'segment "A" {',
        '        ^^^',
        '',
        'rules.seg:3:3: Field "refresh" appears twice in segment "A"; keep one.',
        '  refresh: weekly',
        '  ^^^^^^^^^^^^^^^',
      ),
    );
  });

  test('duplicate segment names in one file', () => {
    const segments = parseRules('segment "A" { conditions { true } }\nsegment "A" { conditions { false } }', 'two.seg');
    expect(checkSegments(segments).map((error) => error.message)).toEqual([
      'two.seg:2:9: Segment "A" is defined twice; give each segment its own name.',
    ]);
  });

  test('an empty event list reports that no events are loaded', () => {
    const [segment] = parseRules('segment "S" { conditions { events.count("x", last_7_days) > 0 } }', 'rules.seg');
    expect(checkSegment(segment, { eventNames: [] }).map((error) => error.description)).toEqual([
      'Unknown event "x": the workspace has no event of that name. No events are loaded in this workspace.',
    ]);
  });
});
