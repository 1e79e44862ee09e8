// Writes docs/tools.md: every tool, resource and prompt of the built server, each with an
// example call and its real answer (abridged), recorded by calling the server on the
// bundled fixture (fixtures/saas) through an in-memory MCP client.
// Run it with `npm run docs:tools` (it builds first).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.SEGMENTATION_MCP_LOG ??= 'warn';
const { createServer } = await import(path.join(root, 'dist/src/server.js'));
const { MAX_RESULT_BYTES } = await import(path.join(root, 'dist/src/mcp/limits.js'));
const { PathPolicy, Workspace } = await import(path.join(root, 'dist/src/workspace/index.js'));

const fixture = path.join(root, 'fixtures', 'saas');
const work = mkdtempSync(path.join(tmpdir(), 'segmentation-docs-'));

/** Example arguments per tool, in the order the calls are made (later calls need the scores). */
const EXAMPLES = [
  ['get_diagnostic_questions', {}],
  ['save_diagnostic_answers', { answers: { decisions: 'Find accounts to save before renewal.', activation_metric: 'Created a project and invited a teammate within 14 days.' } }],
  ['load_data', { table: 'users', path: path.join(fixture, 'users.csv') }],
  ['load_data', { table: 'events', path: path.join(fixture, 'events.csv.gz') }],
  ['load_data', { table: 'billing', path: path.join(fixture, 'billing.csv') }],
  ['load_data', { table: 'support', path: path.join(fixture, 'support.csv') }],
  ['load_data', { table: 'nps', path: path.join(fixture, 'nps.csv') }],
  ['describe_data', {}],
  ['compute_scores', {}],
  ['find_users', { atRisk: true, limit: 3 }],
  ['explain_user', { userId: '$firstAtRisk' }],
  ['export_segment', { atRisk: true, format: 'csv', label: 'renewal save list' }],
  ['render_strategy', {}],
];

/** Examples of tools that other modules add; a failing one is left out of the document with a warning. */
const OPTIONAL_EXAMPLES = [
  ['configure_scoring', {}],
  ['define_segment', { rule: 'segment "Weekly regulars" {\n  conditions {\n    events.avg_weekly_sessions(last_28_days) >= 3\n  }\n  refresh: daily\n}' }],
  ['list_segments', { limit: 3 }],
  ['segment_overlaps', { limit: 3 }],
  ['backfill_history', {}],
  ['segment_history', {}],
  ['segment_transitions', {}],
  ['backtest_score', { asOf: '2026-09-30', observeUntil: '2026-10-31' }],
  ['rfm_quantiles', {}],
  ['delete_segment', { name: 'Weekly regulars' }],
];

/** Calls shown as examples in the document; the other load_data calls only prepare the workspace. */
const SHOWN = new Set(['users', 'events']);

/** Nesting level below which objects and lists are summarised by their size. */
const MAX_DEPTH = 4;

function abridge(value, depth = 0) {
  if (depth >= MAX_DEPTH && value && typeof value === 'object') {
    return Array.isArray(value) ? `[… ${value.length} items]` : `{… ${Object.keys(value).length} keys}`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, 2).map((item) => abridge(item, depth + 1));
    return value.length > 2 ? [...kept, `… ${value.length - 2} more`] : kept;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    const kept = entries.slice(0, 14).map(([key, child]) => [key, abridge(child, depth + 1)]);
    if (entries.length > 14) kept.push(['…', `${entries.length - 14} more keys`]);
    return Object.fromEntries(kept);
  }
  if (typeof value === 'string' && value.length > 240) return `${value.slice(0, 240)}…`;
  return value;
}

function redact(text) {
  return text.replaceAll(work, '<workspace>').replaceAll(root, '<repo>');
}

function json(value) {
  return redact(JSON.stringify(value, null, 2));
}

function firstLines(text, count) {
  const lines = text.split('\n');
  return lines.slice(0, count).join('\n') + (lines.length > count ? `\n… (${lines.length - count} more lines)` : '');
}

/** Wraps text in a code fence longer than any backtick run inside it, so embedded fences stay literal. */
function fence(language, text) {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const marks = '`'.repeat(longest + 1);
  return `${marks}${language}\n${text}\n${marks}`;
}

function inputTable(schema) {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return 'No arguments.';
  const required = new Set(schema.required ?? []);
  const type = (property) => property.type ?? (property.enum ? 'enum' : property.anyOf ? property.anyOf.map((item) => item.type).join(' or ') : 'any');
  const rows = properties.map(([name, property]) => {
    const values = property.enum ? ` One of: ${property.enum.map((item) => `\`${item}\``).join(', ')}.` : '';
    return `| \`${name}\` | ${type(property)} | ${required.has(name) ? 'yes' : 'no'} | ${(property.description ?? '').replaceAll('|', '\\|')}${values} |`;
  });
  return ['| argument | type | required | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function hints(annotations = {}) {
  const parts = [annotations.readOnlyHint ? 'read-only' : 'writes to the workspace'];
  if (annotations.destructiveHint) parts.push('replaces data');
  if (annotations.idempotentHint) parts.push('idempotent');
  return parts.join(', ');
}

const ws = await Workspace.open({ path: path.join(work, 'docs.duckdb') });
const server = createServer({ ws, paths: new PathPolicy([fixture]), outputDir: path.join(work, 'segmentation-output') });
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await server.connect(serverSide);
const client = new Client({ name: 'tools-doc', version: '1.0.0' });
await client.connect(clientSide);

try {
  const tools = (await client.listTools()).tools;
  const examples = new Map();
  let firstAtRisk;
  const available = new Set(tools.map((tool) => tool.name));
  const optional = new Set(OPTIONAL_EXAMPLES.map(([name]) => name));
  for (const [name, template] of [...EXAMPLES, ...OPTIONAL_EXAMPLES.filter(([name]) => available.has(name))]) {
    const args = JSON.parse(JSON.stringify(template).replace('"$firstAtRisk"', JSON.stringify(firstAtRisk ?? '')));
    const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
    if (result.isError && optional.has(name)) {
      process.stderr.write(`Example of ${name} left out: ${result.content[0]?.text}\n`);
      continue;
    }
    if (result.isError) throw new Error(`${name} failed: ${result.content[0]?.text}`);
    if (name === 'find_users') firstAtRisk = result.structuredContent.users[0]?.userId;
    if (name !== 'load_data' || SHOWN.has(args.table)) {
      const list = examples.get(name) ?? [];
      list.push({ args, result });
      examples.set(name, list);
    }
  }

  const out = [
    '# Tools, resources and prompts',
    '',
    'Reference of everything segmentation-mcp offers an MCP client. Every example below is a real call to the',
    'server on the bundled fixture (`fixtures/saas`, 2,000 users), recorded by `npm run docs:tools`; long',
    'answers are abridged (lists keep two items, long texts are cut), and paths are shortened to `<repo>` and',
    '`<workspace>`.',
    '',
    '## Conventions',
    '',
    '- Every tool returns a short text summary for the model and `structuredContent` that matches its output',
    '  schema. Schemas are JSON Schema 2020-12 without a `$schema` keyword; unknown arguments are rejected.',
    `- No tool result exceeds ${MAX_RESULT_BYTES.toLocaleString('en-US')} bytes of JSON. A larger result has its longest lists and texts`,
    '  halved until it fits; it then carries `truncation` in its structured content and a note in its text.',
    '  `find_users` shortens a page itself so that its cursor stays exact. `export_segment` writes a full list to a file.',
    '- Lists take `limit` (with a default and a maximum) and an opaque `cursor`, and report `total`.',
    '- Bad input returns `isError: true` with a message that names the value and says what to fix; the',
    '  workspace is left as it was.',
    '- `load_data`, `compute_scores` and `backfill_history` send progress notifications when the request carries',
    '  a progress token, and stop when the request is cancelled, leaving the previous tables in place.',
    '- Tools that read the workspace wait for a running load or scoring run to finish, so they never see',
    '  half-written tables; twenty concurrent calls give the same results as the same calls made one at a time.',
    '',
    '## Tools',
    '',
  ];

  for (const tool of tools) {
    out.push(`### ${tool.name}`, '', `**${tool.title ?? tool.name}** (${hints(tool.annotations)}).`, '', tool.description ?? '', '', inputTable(tool.inputSchema), '');
    const recorded = examples.get(tool.name);
    if (!recorded) {
      out.push('No example recorded yet: add one to scripts/generate-tools-doc.mjs.', '');
      continue;
    }
    for (const { args, result } of recorded) {
      out.push('Call:', '', fence('json', json({ name: tool.name, arguments: args })), '');
      const text = result.content.filter((block) => block.type === 'text').map((block) => block.text).join('\n');
      out.push('Text answer:', '', fence('text', redact(firstLines(text, 12))), '');
      out.push('Structured answer (abridged):', '', fence('json', json(abridge(result.structuredContent))), '');
      const links = result.content.filter((block) => block.type === 'resource_link');
      if (links.length > 0) out.push('Resource link:', '', fence('json', json(links[0])), '');
    }
  }

  out.push('## Resources', '');
  const resources = (await client.listResources()).resources;
  const templates = (await client.listResourceTemplates()).resourceTemplates;
  for (const template of templates) out.push(`- \`${template.uriTemplate}\`: ${template.description ?? template.title}`);
  out.push('');
  const shownResources = ['segmentation://methodology', 'segmentation://workspace/schema', 'segmentation://templates/strategy', 'segmentation://segments/at_risk', 'segmentation://segments/behavioral-power'];
  for (const resource of resources.filter((item) => !shownResources.includes(item.uri) && !item.uri.startsWith('segmentation://segments/'))) {
    shownResources.push(resource.uri);
  }
  for (const uri of shownResources) {
    const resource = resources.find((item) => item.uri === uri);
    if (!resource) continue;
    const read = await client.readResource({ uri });
    const content = read.contents[0];
    out.push(`### ${uri}`, '', `${resource.title ?? resource.name}${resource.description ? `: ${resource.description}` : ''} (${content.mimeType}).`, '');
    out.push('Read:', '', fence(content.mimeType === 'application/json' ? 'json' : 'text', redact(firstLines(content.text, 16))), '');
  }
  const segmentUris = resources.filter((item) => item.uri.startsWith('segmentation://segments/')).map((item) => `\`${item.uri.slice('segmentation://segments/'.length)}\``);
  out.push(`Segment names served under \`segmentation://segments/{name}\`: ${segmentUris.join(', ')}.`, '');

  out.push('## Prompts', '');
  for (const prompt of (await client.listPrompts()).prompts) {
    out.push(`### ${prompt.name}`, '', `**${prompt.title ?? prompt.name}**: ${prompt.description ?? ''}`, '');
    const args = prompt.arguments ?? [];
    if (args.length > 0) out.push(...args.map((arg) => `- \`${arg.name}\`${arg.required ? ' (required)' : ''}: ${arg.description ?? ''}`), '');
    const example = Object.fromEntries(args.slice(0, 1).map((arg) => [arg.name, arg.name === 'goal' ? 'prioritise renewals' : arg.name === 'eventsFile' ? '/data/events.csv' : 'B2B project management tool for small agencies']));
    const got = await client.getPrompt({ name: prompt.name, arguments: example });
    out.push('Get:', '', fence('json', json({ name: prompt.name, arguments: example })), '', 'Messages:', '');
    for (const message of got.messages) out.push(fence('text', `[${message.role}] ${message.content.text}`), '');
  }

  writeFileSync(path.join(root, 'docs', 'tools.md'), `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`);
  process.stdout.write(`Wrote docs/tools.md (${tools.length} tools, ${resources.length} resources, ${templates.length} templates).\n`);
} finally {
  await client.close();
  await server.close();
  ws.close();
  rmSync(work, { recursive: true, force: true });
}
