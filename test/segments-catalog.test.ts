import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ATTRIBUTES, CONSTANTS, EVENT_FUNCTIONS, checkSegment, compileSegment, formatRuleErrors } from '../src/rules/index.js';
import { loadBuiltinSegments, type BuiltinSegment } from '../src/segments/catalog.js';
import type { Workspace } from '../src/workspace/index.js';
import { AS_OF, createRuleTables, dailyFacts, members, openRuleWorkspace } from './helpers/rule-tables.js';

const builtins = loadBuiltinSegments();
const byName = (name: string): BuiltinSegment => {
  const found = builtins.find((builtin) => builtin.name === name);
  if (!found) throw new Error(`No built-in segment named ${name}`);
  return found;
};

let ws: Workspace;

beforeAll(async () => {
  ws = await openRuleWorkspace();
  await createRuleTables(ws, {
    facts: [
      ...dailyFacts('power', 'edit', 28),
      ...['export', 'share', 'comment', 'search', 'report', 'invite', 'dashboard'].map(
        (event) => ['power', event, '2024-03-09', 'power-2024-03-09'] as const),
      ['gone', 'edit', '2024-01-05', 'gone-1'],
      ['gone', 'edit', '2024-01-06', 'gone-2'],
      ['gone', 'edit', '2024-01-07', 'gone-3'],
    ],
    users: [
      { id: 'power', plan: 'Pro', signup: '2023-12-01 09:00:00', role: 'engineer' },
      { id: 'gone', plan: 'starter', signup: '2023-10-01 09:00:00', role: 'Admin' },
      { id: 'fresh', plan: 'trial', signup: '2024-03-09 09:00:00' },
    ],
    scores: [
      { id: 'power', engagement: 90 },
      { id: 'gone', engagement: 5 },
      { id: 'fresh', engagement: 0 },
    ],
    totalFeatures: 10,
    metrics: { power: { invites_total: 3 }, gone: { total_sessions: 3 } },
  });
});

afterAll(() => ws.close());

describe('built-in catalogue', () => {
  test('holds every required segment', () => {
    const categories = new Map<string, number>();
    for (const builtin of builtins) categories.set(builtin.category, (categories.get(builtin.category) ?? 0) + 1);
    expect(Object.fromEntries(categories)).toEqual({
      behavioral: 7, champions: 1, dormant: 3, expansion: 1, intent: 5, lifecycle: 6, methodology: 2, plan: 5,
    });
    expect(new Set(builtins.map((builtin) => builtin.name)).size).toBe(builtins.length);
  });

  test.each(builtins.map((builtin) => [builtin.name, builtin] as const))('%s checks, compiles and runs', async (_name, builtin) => {
    // An empty event list proves that no built-in depends on product-specific event names.
    const errors = checkSegment(builtin.ast, { eventNames: [] });
    expect(formatRuleErrors(errors)).toBe('');
    const fields = builtin.ast.fields.map((field) => (field.kind === 'TextField' ? field.field : field.kind));
    expect(fields).toContain('description');
    expect(fields).toContain('action');

    const compiled = compileSegment(builtin.ast, { asOf: AS_OF });
    await expect(members(ws, compiled)).resolves.toBeInstanceOf(Array);
  });

  test.each([
    ['Power Users', ['power']],
    ['Behavioral: Power', ['power']],
    ['Champions', ['power']],
    ['Behavioral: Dormant', ['gone']],
    ['Lifecycle: Churned', ['gone']],
    ['Lifecycle: New', ['fresh']],
    ['Dormant: Churned After Paying', ['gone']],
    ['Intent: Admin/IT', ['gone']],
    ['Plan: Pro', ['power']],
    ['Plan: Trial', ['fresh']],
  ])('%s has the expected members', async (name, expected) => {
    const compiled = compileSegment(byName(name).ast, { asOf: AS_OF });
    expect(await members(ws, compiled)).toEqual(expected);
  });
});

describe('docs/rules.md', () => {
  const docs = readFileSync(new URL('../docs/rules.md', import.meta.url), 'utf8');

  test('lists every attribute and constant', () => {
    const names = [
      ...Object.entries(ATTRIBUTES).flatMap(([namespace, entries]) => Object.keys(entries).map((name) => `\`${namespace}.${name}\``)),
      ...Object.keys(CONSTANTS).map((name) => `\`${name}\``),
    ];
    expect(names.filter((name) => !docs.includes(name))).toEqual([]);
  });

  test('documents every function with an example', () => {
    const missing = Object.keys(EVENT_FUNCTIONS).filter((name) => !docs.includes(`| \`events.${name}(`) || !docs.includes(`\nevents.${name}(`));
    expect(missing).toEqual([]);
  });
});
