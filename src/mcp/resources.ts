import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerContext } from '../context.js';
import { printSegment } from '../rules/printer.js';
import { BEHAVIORAL_SEGMENTS, loadSettings, type Model } from '../scoring/index.js';
import { orderedModels } from '../scoring/settings.js';
import { allSegments } from '../segments/definitions.js';
import { templatesDir } from '../strategy/index.js';
import type { Workspace } from '../workspace/index.js';

/** JSON-RPC error code for an unknown resource URI, as the MCP specification defines it. */
const RESOURCE_NOT_FOUND = -32002;

export const METHODOLOGY_URI = 'segmentation://methodology';
export const WORKSPACE_SCHEMA_URI = 'segmentation://workspace/schema';

/** Finds docs/methodology.md above this module, from the sources and from dist/. */
function methodologyPath(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'docs', 'methodology.md');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('docs/methodology.md was not found next to the package.');
}

function describeModel(model: Model): string {
  const lines = [`### ${model.label} (${model.id}, 0 to ${model.max})`, ''];
  for (const component of model.components) {
    let detail: string;
    if (component.kind === 'bands') detail = component.bands.map((band) => `${band.label}: ${band.points}`).join('; ');
    else if (component.kind === 'signals') detail = `${component.combine} of: ${component.signals.map((s) => `${s.label} ${s.points}`).join('; ')}`;
    else detail = `any of the events ${component.events.join(', ')}`;
    lines.push(`- ${component.label}, up to ${component.max} points over ${component.window}: ${detail}.`);
  }
  lines.push(`- Tiers: ${model.tiers.map((tier) => `${tier.name} from ${tier.min}`).join(', ')}.`, '');
  return lines.join('\n');
}

async function readMethodology(ws: Workspace): Promise<string> {
  const prose = readFileSync(methodologyPath(), 'utf8');
  const settings = await loadSettings(ws);
  const models = orderedModels(settings).map(describeModel).join('\n');
  return `${prose}\n## Scoring models in this workspace\n\nCalendar days in ${settings.timeZone}.\n\n${models}`;
}

/** Template names served as `segmentation://templates/{name}`, mapped to their files. */
function templateFiles(): Map<string, string> {
  const dir = templatesDir();
  const files = new Map<string, string>();
  for (const file of readdirSync(dir)) if (file.endsWith('.hbs')) files.set(file.replace(/\.md\.hbs$|\.hbs$/, ''), path.join(dir, file));
  const partials = path.join(dir, 'partials');
  if (existsSync(partials)) {
    for (const file of readdirSync(partials)) if (file.endsWith('.hbs')) files.set(`partial-${file.slice(0, -4)}`, path.join(partials, file));
  }
  return files;
}

/** One segment definition served as `segmentation://segments/{name}`. */
interface SegmentResource {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly mimeType: string;
  readonly text: () => string;
}

/** Turns a rule name such as "Behavioral: Power" into a URI segment such as "behavioral-power". */
export function segmentSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * Collects the behavioural segments of compute_scores, the built-in rule catalogue and
 * the rules saved with define_segment. It reads the workspace, so it runs under the lock.
 */
async function segmentResources(ws: Workspace): Promise<Map<string, SegmentResource>> {
  const resources = new Map<string, SegmentResource>();
  BEHAVIORAL_SEGMENTS.forEach((segment, index) => {
    const test =
      segment.criteria.length === 0
        ? 'every user that no earlier segment took'
        : segment.criteria.map((c) => c.label + (c.requires ? ` (skipped without ${c.requires})` : '')).join(segment.match === 'all' ? ' AND ' : ' OR ');
    resources.set(segment.id, {
      name: segment.id,
      title: `Behavioural segment: ${segment.label}`,
      description: `Behavioural segment assigned by compute_scores (column behavioral_segment = '${segment.id}').`,
      mimeType: 'text/markdown',
      text: () =>
        [
          `# ${segment.label} (${segment.id})`,
          '',
          `Tried in position ${index + 1} of ${BEHAVIORAL_SEGMENTS.length}; the first segment whose test holds wins.`,
          '',
          `Test: ${test}.`,
          '',
          `List the members with find_users {"segment": "${segment.id}"} or export them with export_segment.`,
        ].join('\n'),
    });
  });
  const rules = await ws.exclusive(() => allSegments(ws));
  for (const segment of rules) {
    const slug = segmentSlug(segment.name);
    if (resources.has(slug)) continue;
    const origin = segment.kind === 'saved' ? 'saved with define_segment' : `from the ${segment.category} catalogue`;
    resources.set(slug, {
      name: slug,
      title: segment.name,
      description: `Rule segment "${segment.name}" ${origin}, in the segment rule language.`,
      mimeType: 'text/plain',
      text: () => printSegment(segment.ast),
    });
  }
  return resources;
}

interface TableSchema {
  readonly table: string;
  readonly rows: number;
  readonly columns: { name: string; type: string }[];
}

/** Lists the tables of the workspace with their columns and row counts; internal `_` tables are left out. */
export async function workspaceSchema(ws: Workspace): Promise<TableSchema[]> {
  return ws.exclusive(async () => {
    const columns = await ws.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = 'main' AND table_name NOT LIKE '\\_%' ESCAPE '\\'
       ORDER BY table_name, ordinal_position`,
    );
    const tables = [...new Set(columns.map((column) => column.table_name))];
    const result: TableSchema[] = [];
    for (const table of tables) {
      result.push({
        table,
        rows: await ws.rowCount(table),
        columns: columns.filter((column) => column.table_name === table).map((column) => ({ name: column.column_name, type: column.data_type })),
      });
    }
    return result;
  });
}

function notFound(kind: string, name: string, known: Iterable<string>): McpError {
  return new McpError(
    RESOURCE_NOT_FOUND,
    `Unknown ${kind} "${name}". Known: ${[...known].join(', ')}. List them with resources/templates/list and resources/list.`,
  );
}

function variable(value: string | string[]): string {
  return decodeURIComponent(Array.isArray(value) ? value[0] ?? '' : value);
}

function textResult(uri: URL, mimeType: string, text: string): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType, text }] };
}

/** Registers the methodology, the document templates, the segment definitions and the workspace schema. */
export function registerResources(server: McpServer, { ws }: ServerContext): void {
  server.registerResource(
    'methodology',
    METHODOLOGY_URI,
    {
      title: 'Segmentation methodology',
      description: 'How the server segments and scores users: order of work, segments, at-risk signals, scores, RFM, and the models in force.',
      mimeType: 'text/markdown',
    },
    async (uri) => textResult(uri, 'text/markdown', await readMethodology(ws)),
  );

  server.registerResource(
    'workspace-schema',
    WORKSPACE_SCHEMA_URI,
    {
      title: 'Workspace schema',
      description: 'Tables of the workspace with their columns, types and row counts, as JSON.',
      mimeType: 'application/json',
    },
    async (uri) => textResult(uri, 'application/json', JSON.stringify({ tables: await workspaceSchema(ws) }, null, 2)),
  );

  server.registerResource(
    'template',
    new ResourceTemplate('segmentation://templates/{name}', {
      list: () => ({
        resources: [...templateFiles().keys()].map((name) => ({
          uri: `segmentation://templates/${name}`,
          name: `template-${name}`,
          title: `Document template ${name}`,
          mimeType: 'text/x-handlebars-template',
        })),
      }),
      complete: { name: (value) => [...templateFiles().keys()].filter((name) => name.startsWith(value)) },
    }),
    {
      title: 'Document templates',
      description: 'Handlebars templates of the strategy document and its partials, as render_strategy uses them.',
      mimeType: 'text/x-handlebars-template',
    },
    (uri, variables) => {
      const name = variable(variables.name);
      const files = templateFiles();
      const file = files.get(name);
      if (!file) throw notFound('template', name, files.keys());
      return textResult(uri, 'text/x-handlebars-template', readFileSync(file, 'utf8'));
    },
  );

  server.registerResource(
    'segment',
    new ResourceTemplate('segmentation://segments/{name}', {
      list: async () => ({
        resources: [...(await segmentResources(ws)).values()].map((segment) => ({
          uri: `segmentation://segments/${segment.name}`,
          name: `segment-${segment.name}`,
          title: segment.title,
          description: segment.description,
          mimeType: segment.mimeType,
        })),
      }),
      complete: { name: async (value) => [...(await segmentResources(ws)).keys()].filter((name) => name.startsWith(value)) },
    }),
    {
      title: 'Segment definitions',
      description: 'Each behavioural segment compute_scores assigns, each built-in rule segment and each segment saved with define_segment.',
    },
    async (uri, variables) => {
      const name = variable(variables.name);
      const segments = await segmentResources(ws);
      const segment = segments.get(name);
      if (!segment) throw notFound('segment', name, segments.keys());
      return textResult(uri, segment.mimeType, segment.text());
    },
  );
}
