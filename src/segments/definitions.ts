import { RuleError, Source, checkSegment, formatRuleErrors, parseRules, printSegment, type CheckContext, type SegmentNode } from '../rules/index.js';
import { UserInputError, type Workspace } from '../workspace/index.js';
import { loadBuiltinSegments, type BuiltinSegment } from './catalog.js';

/** A rule segment that can be evaluated: shipped with the server, or saved by a user. */
export interface RuleSegment {
  readonly name: string;
  readonly kind: 'builtin' | 'saved';
  /** File stem for built-ins (behavioral, lifecycle, …); 'saved' for user segments. */
  readonly category: string;
  readonly description: string | null;
  readonly action: string | null;
  readonly refresh: string | null;
  readonly source: string;
  readonly ast: SegmentNode;
  /** ISO timestamp of the save; null for built-ins. */
  readonly createdAt: string | null;
}

/** Maximum length of a rule text for define_segment, in characters. */
export const MAX_RULE_CHARS = 20_000;

/** Creates the tables segments use, if they are missing; idempotent. */
export async function ensureSegmentTables(ws: Workspace): Promise<void> {
  await ws.run(`CREATE TABLE IF NOT EXISTS segment_definitions (
    name VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    description VARCHAR,
    action VARCHAR,
    refresh VARCHAR,
    created_at TIMESTAMP NOT NULL
  )`);
  await ws.run('CREATE TABLE IF NOT EXISTS segment_members (as_of DATE NOT NULL, segment VARCHAR NOT NULL, user_id VARCHAR NOT NULL)');
  await ws.run(
    'CREATE TABLE IF NOT EXISTS segment_snapshots (as_of DATE NOT NULL, period_key VARCHAR NOT NULL, segment VARCHAR NOT NULL, user_id VARCHAR NOT NULL)',
  );
  // Size of each segment at each evaluated as-of day, kept also when the segment is empty.
  await ws.run('CREATE TABLE IF NOT EXISTS segment_sizes (as_of DATE NOT NULL, segment VARCHAR NOT NULL, size BIGINT NOT NULL)');
  // One row per snapshot period; `period` is 'week' or 'month' and `boundary` is as_of + 1.
  await ws.run(`CREATE TABLE IF NOT EXISTS snapshot_dates (
    period VARCHAR NOT NULL, period_key VARCHAR NOT NULL, period_start DATE NOT NULL,
    as_of DATE NOT NULL, boundary DATE NOT NULL, partial BOOLEAN NOT NULL)`);
}

function textField(ast: SegmentNode, field: 'description' | 'action'): string | null {
  for (const node of ast.fields) if (node.kind === 'TextField' && node.field === field) return node.value.value;
  return null;
}

function refreshField(ast: SegmentNode): string | null {
  for (const node of ast.fields) if (node.kind === 'RefreshField') return node.value.value;
  return null;
}

function fromBuiltin(builtin: BuiltinSegment): RuleSegment {
  return {
    name: builtin.name,
    kind: 'builtin',
    category: builtin.category,
    description: textField(builtin.ast, 'description'),
    action: textField(builtin.ast, 'action'),
    refresh: refreshField(builtin.ast),
    source: builtin.ast.source.body.slice(builtin.ast.loc.start, builtin.ast.loc.end),
    ast: builtin.ast,
    createdAt: null,
  };
}

let builtinCache: RuleSegment[] | undefined;

/** Returns the built-in catalogue, parsed once per process because the files ship with the server and do not change. */
export function builtinSegments(): readonly RuleSegment[] {
  builtinCache ??= loadBuiltinSegments().map(fromBuiltin);
  return builtinCache;
}

/** Names compare without regard to case or surrounding spaces, so "power users" cannot sit beside "Power Users". */
function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

export function findBuiltin(name: string): RuleSegment | undefined {
  return builtinSegments().find((segment) => nameKey(segment.name) === nameKey(name));
}

/** Reads and parses every saved segment, in name order. */
export async function savedSegments(ws: Workspace): Promise<RuleSegment[]> {
  await ensureSegmentTables(ws);
  const rows = await ws.query<{ name: string; source: string; created_at: string }>(
    'SELECT name, source, created_at::VARCHAR AS created_at FROM segment_definitions ORDER BY name',
  );
  return rows.map((row) => {
    const [ast] = parseRules(row.source, `segment "${row.name}"`);
    if (!ast) throw new Error(`Internal error: the saved segment "${row.name}" has no rule text.`);
    return {
      name: row.name,
      kind: 'saved',
      category: 'saved',
      description: textField(ast, 'description'),
      action: textField(ast, 'action'),
      refresh: refreshField(ast),
      source: row.source,
      ast,
      createdAt: row.created_at,
    };
  });
}

/** Built-in segments first (catalogue order), then saved ones (name order). */
export async function allSegments(ws: Workspace): Promise<RuleSegment[]> {
  return [...builtinSegments(), ...(await savedSegments(ws))];
}

/** Finds a built-in or saved segment by name; throws a UserInputError listing close names otherwise. */
export async function resolveSegment(ws: Workspace, name: string): Promise<RuleSegment> {
  const segments = await allSegments(ws);
  const found = segments.find((segment) => nameKey(segment.name) === nameKey(name));
  if (found) return found;
  const words = nameKey(name).split(/[^a-z0-9]+/).filter((word) => word.length > 2);
  const close = segments.filter((segment) => words.some((word) => nameKey(segment.name).includes(word))).map((s) => `"${s.name}"`);
  throw new UserInputError(
    `Unknown segment "${name}". ${close.length > 0 ? `Similar names: ${close.slice(0, 5).join(', ')}. ` : ''}` +
      'Call list_segments for every built-in and saved segment, or define it with define_segment.',
  );
}

/** Event names present in the workspace, for the checker's "did you mean" on event names. */
export async function workspaceEventNames(ws: Workspace): Promise<string[]> {
  const table = (await ws.tableExists('event_facts')) ? 'event_facts' : (await ws.tableExists('events')) ? 'events' : undefined;
  if (!table) return [];
  const rows = await ws.query<{ event: string }>(`SELECT DISTINCT event FROM ${table} ORDER BY event`);
  return rows.map((row) => row.event);
}

/**
 * Parses and checks one segment of rule text and returns its tree. A syntax error, or
 * any number of meaning errors, becomes one RuleErrorList carrying all of them.
 */
export function parseOneSegment(text: string, sourceName: string, context: CheckContext): SegmentNode {
  if (text.length > MAX_RULE_CHARS) {
    throw new UserInputError(`The rule is ${text.length} characters long; the limit is ${MAX_RULE_CHARS}. Split it into smaller segments.`);
  }
  const source = new Source(text, sourceName);
  let segments: readonly SegmentNode[];
  try {
    segments = parseRules(source);
  } catch (error) {
    if (error instanceof RuleError) throw new RuleErrorList([error]);
    throw error;
  }
  if (segments.length !== 1) {
    throw new UserInputError(
      `The rule text defines ${segments.length} segments; define_segment takes exactly one, written segment "Name" { conditions { … } }.`,
    );
  }
  const errors = checkSegment(segments[0], context);
  if (errors.length > 0) throw new RuleErrorList(errors);
  return segments[0];
}

/** Several rule errors reported together. The `message` contains every one with its caret excerpt. */
export class RuleErrorList extends UserInputError {
  constructor(readonly errors: readonly RuleError[], render: (errors: readonly RuleError[]) => string = renderErrors) {
    super(render(errors));
    this.name = 'RuleErrorList';
  }
}

function renderErrors(errors: readonly RuleError[]): string {
  const header = errors.length === 1 ? 'The rule has 1 error:' : `The rule has ${errors.length} errors:`;
  return `${header}\n\n${formatRuleErrors(errors)}`;
}

/** The result of saveSegment. */
export interface SavedSegment {
  readonly name: string;
  readonly replaced: boolean;
  readonly canonical: string;
}

/**
 * Stores a checked segment under its name. A name used by a built-in is rejected, and
 * so is an existing saved name unless `replace` is true.
 */
export async function saveSegment(ws: Workspace, ast: SegmentNode, replace: boolean): Promise<SavedSegment> {
  await ensureSegmentTables(ws);
  const name = ast.name.value.trim();
  const builtin = findBuiltin(name);
  if (builtin) {
    throw new UserInputError(
      `Segment name "${name}" is taken by the built-in segment "${builtin.name}" (${builtin.category}); a saved segment may not ` +
        'replace a built-in. Choose another name, e.g. "My ' + builtin.name + '".',
    );
  }
  const existing = (await savedSegments(ws)).find((segment) => nameKey(segment.name) === nameKey(name));
  if (existing && !replace) {
    throw new UserInputError(
      `A saved segment named "${existing.name}" already exists. Pass replace: true to overwrite it, or choose another name.`,
    );
  }
  const canonical = printSegment(ast);
  await ws.transaction(async () => {
    // A key deleted and inserted again in one transaction trips DuckDB's index check, so
    // only a differently spelt old name is deleted and the same name is updated in place.
    if (existing && existing.name !== name) await ws.run('DELETE FROM segment_definitions WHERE name = $1', [existing.name]);
    await ws.run(
      `INSERT INTO segment_definitions (name, source, description, action, refresh, created_at)
       VALUES ($1, $2, $3, $4, $5, now()::TIMESTAMP)
       ON CONFLICT (name) DO UPDATE SET source = excluded.source, description = excluded.description,
         action = excluded.action, refresh = excluded.refresh, created_at = excluded.created_at`,
      [name, canonical, textField(ast, 'description'), textField(ast, 'action'), refreshField(ast)],
    );
    if (existing) await ws.run('DELETE FROM segment_members WHERE segment = $1', [existing.name]);
    if (existing) await ws.run('DELETE FROM segment_sizes WHERE segment = $1', [existing.name]);
  });
  return { name, replaced: existing !== undefined, canonical };
}

/** Deletes a saved segment and its stored memberships; built-ins cannot be deleted. */
export async function deleteSegment(ws: Workspace, name: string): Promise<{ name: string; members: number }> {
  await ensureSegmentTables(ws);
  const builtin = findBuiltin(name);
  if (builtin) {
    throw new UserInputError(
      `"${builtin.name}" is a built-in segment (${builtin.category}) and cannot be deleted. Only segments saved with define_segment can be.`,
    );
  }
  const existing = (await savedSegments(ws)).find((segment) => nameKey(segment.name) === nameKey(name));
  if (!existing) {
    throw new UserInputError(`No saved segment is named "${name}". Call list_segments to see the saved ones.`);
  }
  const row = await ws.queryOne<{ n: number }>('SELECT count(*) AS n FROM segment_members WHERE segment = $1', [existing.name]);
  await ws.transaction(async () => {
    await ws.run('DELETE FROM segment_definitions WHERE name = $1', [existing.name]);
    await ws.run('DELETE FROM segment_members WHERE segment = $1', [existing.name]);
    await ws.run('DELETE FROM segment_sizes WHERE segment = $1', [existing.name]);
  });
  return { name: existing.name, members: row?.n ?? 0 };
}
