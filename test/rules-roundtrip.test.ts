import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseRules, printSegment, printSegments, type SegmentNode } from '../src/rules/index.js';
import { loadBuiltinSegments } from '../src/segments/catalog.js';

/** Strips offsets and sources from a tree, since printing may change them. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).filter(([key]) => key !== 'loc' && key !== 'source');
  return Object.fromEntries(entries.map(([key, inner]) => [key, shape(inner)]));
}

function roundTrip(segments: readonly SegmentNode[]): void {
  const printed = printSegments(segments);
  const reparsed = parseRules(printed, 'printed.seg');
  expect(shape(reparsed)).toEqual(shape(segments));
  // Printing is canonical: printing the reprinted tree changes nothing.
  expect(printSegments(reparsed)).toBe(printed);
}

describe('kitchen sink', () => {
  const source = readFileSync(new URL('./fixtures/kitchen-sink.seg', import.meta.url), 'utf8');
  const segments = parseRules(source, 'kitchen-sink.seg');

  test('parses three segments', () => {
    expect(segments.map((segment) => segment.name.value)).toEqual(['Kitchen Sink', 'Second', '']);
  });

  test('survives parse, print, parse', () => {
    roundTrip(segments);
  });

  test('prints canonical source', () => {
    const printed = printSegment(segments[0]);
    expect(printed).toContain('description: "Quotes \\" backslashes \\\\ tabs \\t and newlines \\n survive printing."');
    expect(printed).toContain(
      '  conditions {\n    (\n      events.session_count(last_7_days) >= 5\n      AND events.unique_features_used(last_30_days) >= 0.7 * total_features\n',
    );
    expect(printed).toContain('    OR (\n      NOT (scores.engagement_tier = "highly_engaged" OR scores.at_risk = true)\n      AND (\n');
    expect(printed).toContain('events.count("Pricing Page Viewed", previous_2_weeks) != 0');
    expect(printed).toContain('events.avg_weekly_sessions(last_3_months) > -(2 - 1) * -1');
    expect(printed).toContain('1 - (2 - 3) = 1 - 2 - 3');
    expect(printed).toContain('8 / (4 / 2) = 8 / 4 / 2');
    expect(printed).toContain('NOT NOT user.plan = "pro"');
    expect(printed).toContain('events.started_again(last_1_month)');
    expect(printSegment(segments[1])).toBe('segment "Second" {\n  conditions {\n    007 < 8.50\n  }\n}\n');
  });
});

describe('built-in segments', () => {
  const builtins = loadBuiltinSegments();

  test.each(builtins.map((builtin) => [builtin.name, builtin] as const))('%s round-trips', (_name, builtin) => {
    roundTrip([builtin.ast]);
  });
});

// The three event-based rule examples of the segmentation methodology, unchanged.
const METHODOLOGY_EXAMPLES = [
  `segment "Power Users" {
  conditions {
    events.session_count(last_7_days) >= 5
    AND events.unique_features_used(last_30_days) >= 0.7 * total_features
    AND user.days_since_signup >= 30
  }
  refresh: daily
}
`,
  `segment "At Risk" {
  conditions {
    events.session_count(last_7_days) < 0.5 * events.avg_weekly_sessions(last_28_days)
    AND events.avg_weekly_sessions(last_28_days) >= 2
  }
  refresh: daily
}
`,
  `segment "Expansion Ready" {
  conditions {
    scores.engagement >= 60
    AND (
      usage.percentage_of_limit >= 0.7
      OR events.pricing_page_view(last_14_days) >= 1
      OR events.locked_feature_click(last_14_days) >= 1
    )
  }
  refresh: daily
}
`,
];

describe('methodology examples', () => {
  test.each(METHODOLOGY_EXAMPLES)('prints back to its own text %#', (text) => {
    const segments = parseRules(text, 'methodology.seg');
    expect(printSegments(segments)).toBe(text);
  });
});
