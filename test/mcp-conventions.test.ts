import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MAX_RESULT_BYTES, fitResult, jsonBytes } from '../src/mcp/limits.js';
import { Workspace } from '../src/workspace/index.js';
import { exportFileName } from '../tools/export-segment.js';
import { loadFixture, startHarness, textOf, type McpHarness } from './helpers/mcp.js';

/** Tools that only read the workspace. Every other tool must set readOnlyHint to false and set destructiveHint. */
const READ_ONLY_TOOLS = ['get_diagnostic_questions', 'describe_data', 'find_users', 'explain_user'];

let harness: McpHarness;
let tools: Tool[];

beforeAll(async () => {
  harness = await startHarness();
  tools = (await harness.client.listTools()).tools;
  await loadFixture(harness);
});

afterAll(async () => {
  await harness.close();
});

/** Collects every `$schema` value anywhere inside a JSON value. */
function dialects(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(dialects);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
    key === '$schema' ? [String(child)] : dialects(child),
  );
}

/** Lists the paths of object properties that carry no description, descending into nested objects, arrays and unions. */
function undescribed(schema: Record<string, unknown>, at: string, recursive: boolean): string[] {
  const missing: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, property] of Object.entries(properties)) {
    const where = at ? `${at}.${name}` : name;
    if (typeof property.description !== 'string' || property.description.length === 0) missing.push(where);
    if (recursive) missing.push(...nested(property, where));
  }
  return missing;
}

function nested(schema: Record<string, unknown>, at: string): string[] {
  const parts: Record<string, unknown>[] = [];
  if (schema.properties) parts.push(schema);
  if (schema.items && typeof schema.items === 'object') parts.push(schema.items as Record<string, unknown>);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') parts.push(schema.additionalProperties as Record<string, unknown>);
  for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[key])) parts.push(...(schema[key] as Record<string, unknown>[]));
  return parts.flatMap((part) => (part === schema ? [] : part.properties ? undescribed(part, at, true) : nested(part, at)));
}

function newValidator(): Ajv2020 {
  return new Ajv2020({ strict: false, allErrors: true });
}

describe('tools/list', () => {
  test('schemas carry no draft-07 $schema', () => {
    for (const tool of tools) {
      expect(dialects(tool.inputSchema), tool.name).toEqual([]);
      expect(dialects(tool.outputSchema), tool.name).toEqual([]);
    }
    expect(JSON.stringify(tools)).not.toContain('draft-07');
  });

  test('schemas compile as JSON Schema 2020-12', () => {
    const ajv = newValidator();
    for (const tool of tools) {
      expect(() => ajv.compile(tool.inputSchema), `${tool.name} input`).not.toThrow();
      expect(() => ajv.compile(tool.outputSchema!), `${tool.name} output`).not.toThrow();
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
  });

  test('every input property has a description', () => {
    for (const tool of tools) expect(undescribed(tool.inputSchema, '', true), tool.name).toEqual([]);
  });

  test('every top-level output property has a description', () => {
    for (const tool of tools) expect(undescribed(tool.outputSchema!, '', false), tool.name).toEqual([]);
  });

  test('descriptions say when to use the tool and its limits', () => {
    for (const tool of tools) {
      expect(tool.description!.length, tool.name).toBeGreaterThan(150);
      expect(tool.description, tool.name).toMatch(/Use it|Start|Run it|Requires|after|before/);
      expect(tool.description, tool.name).toMatch(/cannot|does not|only|Requires|at most|not |\bno\b|nothing/i);
    }
  });

  test('annotations mark read-only tools', () => {
    for (const tool of tools) {
      expect(typeof tool.annotations?.readOnlyHint, tool.name).toBe('boolean');
      expect(tool.annotations?.openWorldHint, tool.name).toBe(false);
      if (READ_ONLY_TOOLS.includes(tool.name)) expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
      if (!tool.annotations?.readOnlyHint) expect(typeof tool.annotations?.destructiveHint, tool.name).toBe('boolean');
    }
    for (const name of READ_ONLY_TOOLS) expect(tools.map((tool) => tool.name)).toContain(name);
  });

  test('inputs reject unknown arguments', () => {
    for (const tool of tools) expect(tool.inputSchema.additionalProperties, tool.name).toBe(false);
  });
});

describe('tool answers', () => {
  test('structured content matches the listed output schema', async () => {
    const ajv = newValidator();
    const calls: [string, Record<string, unknown>][] = [
      ['get_diagnostic_questions', {}],
      ['describe_data', {}],
      ['find_users', { atRisk: true, limit: 3 }],
      ['export_segment', { segment: 'power' }],
    ];
    for (const [name, args] of calls) {
      const result = await harness.call(name, args);
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(textOf(result).length, name).toBeGreaterThan(0);
      const validate = ajv.compile(tools.find((tool) => tool.name === name)!.outputSchema!);
      expect(validate(result.structuredContent), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  test('find_users at the maximum limit stays under the size limit', async () => {
    const result = await harness.call('find_users', { limit: 500 });
    expect(result.isError).toBeFalsy();
    expect(jsonBytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const page = result.structuredContent as { total: number; users: { userId: string }[]; nextCursor?: string };
    expect(page.users.length).toBeGreaterThan(0);
    expect(page.nextCursor).toBeDefined();

    const seen = new Set(page.users.map((user) => user.userId));
    let cursor = page.nextCursor;
    while (cursor) {
      const next = (await harness.call('find_users', { limit: 500, cursor })).structuredContent as typeof page;
      for (const user of next.users) seen.add(user.userId);
      cursor = next.nextCursor;
    }
    expect(seen.size).toBe(page.total);
  });

  test('invalid cursor is rejected by name', async () => {
    const result = await harness.call('find_users', { cursor: 'bm90LWEtY3Vyc29y' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('bm90LWEtY3Vyc29y');
  });
});

describe('answer size limit', () => {
  test('fitResult cuts the largest list and says so', () => {
    const users = Array.from({ length: 5000 }, (_, i) => ({ id: `u${i}`, reason: 'x'.repeat(100) }));
    const result: CallToolResult = { content: [{ type: 'text', text: 'summary' }], structuredContent: { total: 5000, users } };
    const fitted = fitResult(result);
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const structured = fitted.structuredContent as { users: unknown[]; truncation: { lists: { path: string; kept: number; total: number }[] } };
    expect(structured.truncation.lists[0].path).toBe('users');
    expect(structured.truncation.lists[0].total).toBe(5000);
    expect(structured.users.length).toBe(structured.truncation.lists[0].kept);
    expect(textOf(fitted)).toContain('cut to fit');
    expect(users.length).toBe(5000);
  });

  test('fitResult cuts a long text', () => {
    const result: CallToolResult = { content: [{ type: 'text', text: 'y'.repeat(300_000) }], structuredContent: { markdown: 'z'.repeat(300_000) } };
    const fitted = fitResult(result);
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(fitted.structuredContent?.truncation).toBeDefined();
  });

  test('fitResult stays under the limit with many lists', () => {
    const groups = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`group${i}`, Array.from({ length: 40 }, (_, j) => `member-${i}-${j}`)]));
    const fitted = fitResult({ content: [{ type: 'text', text: 'groups' }], structuredContent: { groups } });
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(textOf(fitted)).toContain('cut to fit');
  });

  test('fitResult leaves a small answer alone', () => {
    const result: CallToolResult = { content: [{ type: 'text', text: 'ok' }], structuredContent: { n: 1 } };
    expect(fitResult(result)).toBe(result);
  });

  test('render_strategy answer stays under the limit', async () => {
    const result = await harness.call('render_strategy');
    expect(result.isError, textOf(result)).toBeFalsy();
    expect(jsonBytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
  });
});

describe('export_segment', () => {
  test('writes the at-risk list as CSV', async () => {
    const found = (await harness.call('find_users', { atRisk: true, limit: 1 })).structuredContent as { total: number };
    const result = await harness.call('export_segment', { atRisk: true });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as { path: string; uri: string; rows: number; format: string };
    expect(out.rows).toBe(found.total);
    expect(path.dirname(out.path)).toBe(path.join(harness.outputDir, 'exports'));
    expect(out.uri.startsWith('file://')).toBe(true);
    const lines = readFileSync(out.path, 'utf8').trim().split('\n');
    expect(lines.length).toBe(found.total + 1);
    expect(lines[0].startsWith('user_id,')).toBe(true);
    const link = result.content.find((block) => block.type === 'resource_link');
    expect(link).toMatchObject({ type: 'resource_link', uri: out.uri, mimeType: 'text/csv' });
  });

  test('writes Parquet that DuckDB reads back', async () => {
    const result = await harness.call('export_segment', { segment: 'dormant', format: 'parquet' });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as { path: string; rows: number };
    const reader = await Workspace.open({ path: ':memory:' });
    const row = await reader.queryOne<{ n: number }>(`SELECT count(*) AS n FROM read_parquet('${out.path.replaceAll("'", "''")}')`);
    reader.close();
    expect(row?.n).toBe(out.rows);
  });

  test('writes a rule segment by name', async () => {
    const listed = (await harness.call('find_users', { segmentName: 'Power Users', limit: 1 })).structuredContent as { total: number };
    const result = await harness.call('export_segment', { segmentName: 'Power Users' });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect((result.structuredContent as { rows: number }).rows).toBe(listed.total);
    expect(path.basename((result.structuredContent as { path: string }).path)).toMatch(/^power-users-/);
  });

  test('label cannot leave the exports folder', async () => {
    const result = await harness.call('export_segment', { segment: 'power', label: '../../../etc/passwd\0.sh' });
    expect(result.isError, textOf(result)).toBeFalsy();
    const out = result.structuredContent as { path: string };
    expect(path.dirname(out.path)).toBe(path.join(harness.outputDir, 'exports'));
    expect(path.basename(out.path)).toMatch(/^etc-passwd-sh-\d{8}T\d{6}Z-[0-9a-f]{6}\.csv$/);
    expect(existsSync(out.path)).toBe(true);
  });

  test('file name is built from a slug', () => {
    const name = exportFileName('Renewal campaign: Q4 / EMEA', 'csv', new Date('2026-01-02T03:04:05.678Z'));
    expect(name).toMatch(/^renewal-campaign-q4-emea-20260102T030405Z-[0-9a-f]{6}\.csv$/);
    expect(exportFileName('///', 'parquet')).toMatch(/^users-/);
  });

  test('unknown segment is rejected by name', async () => {
    const result = await harness.call('export_segment', { segment: 'whales' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('whales');
  });
});

describe('resources', () => {
  test('list contains methodology, schema, templates and segments', async () => {
    const uris = (await harness.client.listResources()).resources.map((resource) => resource.uri);
    expect(uris).toContain('segmentation://methodology');
    expect(uris).toContain('segmentation://workspace/schema');
    expect(uris).toContain('segmentation://templates/strategy');
    expect(uris).toContain('segmentation://segments/at_risk');
    expect(uris).toContain('segmentation://segments/behavioral-power');
    const templates = (await harness.client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate);
    expect(templates).toEqual(expect.arrayContaining(['segmentation://templates/{name}', 'segmentation://segments/{name}']));
  });

  test('every listed resource can be read', async () => {
    for (const resource of (await harness.client.listResources()).resources) {
      const read = await harness.client.readResource({ uri: resource.uri });
      const content = read.contents[0] as { text?: string };
      expect(content.text?.length ?? 0, resource.uri).toBeGreaterThan(20);
    }
  });

  test('methodology lists the models in force', async () => {
    const read = await harness.client.readResource({ uri: 'segmentation://methodology' });
    const text = (read.contents[0] as { text: string }).text;
    expect(text).toContain('## Behavioural segments');
    expect(text).toContain('## Scoring models in this workspace');
    expect(text).toMatch(/Tiers: healthy from 0/);
  });

  test('workspace schema gives tables, columns and row counts', async () => {
    const read = await harness.client.readResource({ uri: 'segmentation://workspace/schema' });
    const schema = JSON.parse((read.contents[0] as { text: string }).text) as { tables: { table: string; rows: number; columns: { name: string }[] }[] };
    const events = schema.tables.find((table) => table.table === 'events');
    expect(events?.rows).toBe(await harness.ws.rowCount('events'));
    expect(events?.columns.map((column) => column.name)).toEqual(expect.arrayContaining(['user_id', 'event', 'ts']));
    expect(schema.tables.some((table) => table.table.startsWith('_'))).toBe(false);
  });

  test('saved rule segment is served', async () => {
    const rule = 'segment "Docs Weekly Regulars" {\n  conditions {\n    events.avg_weekly_sessions(last_28_days) >= 3\n  }\n  refresh: daily\n}';
    const defined = await harness.call('define_segment', { rule });
    expect(defined.isError, textOf(defined)).toBeFalsy();
    const read = await harness.client.readResource({ uri: 'segmentation://segments/docs-weekly-regulars' });
    expect((read.contents[0] as { text: string }).text).toContain('avg_weekly_sessions(last_28_days) >= 3');
    await harness.call('delete_segment', { name: 'Docs Weekly Regulars' });
  });

  test('unknown segment resource names the known ones', async () => {
    await expect(harness.client.readResource({ uri: 'segmentation://segments/whales' })).rejects.toThrow(/whales.*at_risk/);
  });
});

describe('prompts', () => {
  test('three prompts name the tools to call', async () => {
    const prompts = (await harness.client.listPrompts()).prompts.map((prompt) => prompt.name);
    expect(prompts).toEqual(expect.arrayContaining(['segmentation_session', 'find_at_risk_users', 'draft_strategy_document']));
    const session = await harness.client.getPrompt({ name: 'segmentation_session', arguments: { dataFolder: '/data/exports' } });
    const sessionText = session.messages.map((message) => (message.content as { text: string }).text).join('\n');
    expect(sessionText).toContain('get_diagnostic_questions');
    expect(sessionText).toContain('/data/exports');
    const atRisk = await harness.client.getPrompt({ name: 'find_at_risk_users', arguments: {} });
    expect(JSON.stringify(atRisk.messages)).toContain('export_segment');
    const draft = await harness.client.getPrompt({ name: 'draft_strategy_document', arguments: { goal: 'prioritise renewals' } });
    expect(JSON.stringify(draft.messages)).toContain('render_strategy');
    expect(JSON.stringify(draft.messages)).toContain('prioritise renewals');
  });
});

describe('diagnostic answers', () => {
  test('render_strategy uses the saved answers', async () => {
    const saved = await harness.call('save_diagnostic_answers', {
      answers: { decisions: 'Win back lapsed teams before the Q3 renewal', data_sources: 'Our CRM export is not loaded yet' },
    });
    expect(saved.isError, textOf(saved)).toBeFalsy();
    const rendered = await harness.call('render_strategy');
    const markdown = (rendered.structuredContent as { markdown: string }).markdown;
    expect(markdown).toContain('Win back lapsed teams before the Q3 renewal');
    expect(markdown).toContain('Our CRM export is not loaded yet');
  });

  test('render_strategy shows the team context answers', async () => {
    await harness.call('save_diagnostic_answers', {
      answers: { activation_channels: 'Customer.io emails and in-app banners', churn_signals: 'Stripe dunning events' },
    });
    const rendered = await harness.call('render_strategy');
    const markdown = (rendered.structuredContent as { markdown: string }).markdown;
    expect(markdown).toContain('Channels to act on segments: Customer.io emails and in-app banners');
    expect(markdown).toContain('Churn signals available: Stripe dunning events');
  });

  test('empty answer keeps the earlier one', async () => {
    await harness.call('save_diagnostic_answers', { answers: { decisions: 'Keep this goal' } });
    const result = await harness.call('save_diagnostic_answers', { answers: { decisions: '  ' } });
    expect(result.isError, textOf(result)).toBeFalsy();
    expect((result.structuredContent as { saved: Record<string, string> }).saved.decisions).toBe('Keep this goal');
  });
});
