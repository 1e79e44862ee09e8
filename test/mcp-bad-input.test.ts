import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadFixture, startHarness, textOf, type McpHarness } from './helpers/mcp.js';

/** Tables whose row counts must not move when a call fails. */
const TABLES = ['events', 'users', 'billing', 'support', 'nps', 'user_metrics', 'user_scores'];

/** Phrases that show an error message gives the caller a next step. */
const ADVICE = /columns are|written|values present|one of|did you mean|expected|\b(use|check|give|run|call|pass|move|remove|correct|start|load|repeat|write|try|add|save|set|fix|convert|export|choose|ask|list|restart|narrow|split|keep|rename|map|leave|drop|download|put|send)\b/i;

interface BadInput {
  readonly name: string;
  readonly tool: string;
  /** Arguments, or a function of the data folder and the outside folder. */
  readonly args: Record<string, unknown> | ((data: string, outside: string) => Record<string, unknown>);
  /** Text the error message must contain: the offending value or name. */
  readonly names: string | RegExp | ((data: string, outside: string) => string);
}

let harness: McpHarness;
let data: string;
let outside: string;

const events = (name: string, extra: Record<string, unknown> = {}) => (dir: string) => ({ table: 'events', path: path.join(dir, name), ...extra });

/** Writes every bad file of the corpus into the data folder and the outside folder. */
function writeCorpus(): void {
  const header = 'user_id,event,timestamp\n';
  writeFileSync(path.join(data, 'empty.csv'), '');
  writeFileSync(path.join(data, 'header-only.csv'), header);
  writeFileSync(path.join(data, 'binary.csv'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe, 0, 1, 2, 3]));
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${header}u1,login,2026-01-01 10:00:00\n`, 'utf16le')]);
  writeFileSync(path.join(data, 'utf16.csv'), utf16);
  writeFileSync(path.join(data, 'latin1.csv'), Buffer.from(`${header}Jos\u00e9,connexion,2026-01-01 10:00:00\nRen\u00e9e,login,2026-01-02 10:00:00\n`, 'latin1'));
  writeFileSync(path.join(data, 'ragged.csv'), `${header}u1,login,2026-01-01 10:00:00\nu2,login\nu3,login,2026-01-01 10:00:00,extra,more\n`);
  writeFileSync(path.join(data, 'gigantic.csv'), `${header}u1,${'x'.repeat(3 * 1024 * 1024)},2026-01-01 10:00:00\n`);
  writeFileSync(path.join(data, 'not-gzip.csv.gz'), `${header}u1,login,2026-01-01 10:00:00\n`);
  writeFileSync(path.join(data, 'truncated.csv.gz'), gzipSync(`${header}${'u1,login,2026-01-01 10:00:00\n'.repeat(2000)}`).subarray(0, 200));
  writeFileSync(path.join(data, 'broken.json'), '[{"user_id": "u1", "event": "login", "timestamp": ');
  writeFileSync(path.join(data, 'fake.parquet'), 'this is not parquet\n');
  writeFileSync(path.join(data, 'sheet.xlsx'), 'PK\u0003\u0004 not really a spreadsheet');

  writeFileSync(path.join(data, 'no-user.csv'), 'a,b,c\n1,2,3\n');
  writeFileSync(path.join(data, 'no-time.csv'), 'user_id,event\nu1,login\n');
  writeFileSync(path.join(data, 'bad-dates.csv'), `${header}u1,login,not a date\nu2,login,yesterday\n`);
  writeFileSync(path.join(data, 'future.csv'), `${header}u1,login,2999-01-01 10:00:00\nu2,login,2999-02-01 10:00:00\n`);
  writeFileSync(path.join(data, 'ancient.csv'), `${header}u1,login,1066-10-14 10:00:00\nu2,login,1200-01-01 10:00:00\n`);
  writeFileSync(path.join(data, 'ambiguous.csv'), `${header}u1,login,03/04/2024\nu2,login,05/06/2024\n`);
  writeFileSync(path.join(data, 'epoch-text.csv'), `${header}u1,login,abc\n`);

  writeFileSync(path.join(data, 'negative.csv'), 'user_id,timestamp,kind,amount\nu1,2026-01-01 10:00:00,payment,-50\nu2,2026-01-02 10:00:00,payment,-10\n');
  writeFileSync(path.join(data, 'nan.csv'), 'user_id,timestamp,kind,amount\nu1,2026-01-01 10:00:00,payment,NaN\nu2,2026-01-02 10:00:00,payment,nan\n');
  writeFileSync(path.join(data, 'nps-range.csv'), 'user_id,timestamp,score\nu1,2026-01-01 10:00:00,11\nu2,2026-01-01 10:00:00,-3\n');
  writeFileSync(path.join(data, 'nps-nan.csv'), 'user_id,timestamp,score\nu1,2026-01-01 10:00:00,NaN\nu2,2026-01-01 10:00:00,ten\n');
  writeFileSync(path.join(data, 'empty-ids.csv'), `${header},login,2026-01-01 10:00:00\n,login,2026-01-02 10:00:00\n`);
  writeFileSync(path.join(data, 'kinds.csv'), 'user_id,timestamp,kind,amount\nu1,2026-01-01 10:00:00,teleport,5\n');
  writeFileSync(path.join(data, 'good.csv'), `${header}u1,login,2026-01-01 10:00:00\n`);

  mkdirSync(path.join(data, 'folder.csv'));
  writeFileSync(path.join(outside, 'secret.csv'), `${header}s1,login,2026-01-01 10:00:00\n`);
  symlinkSync(path.join(outside, 'secret.csv'), path.join(data, 'link.csv'));
  symlinkSync(outside, path.join(data, 'linkdir'));
  symlinkSync('/etc/passwd', path.join(data, 'passwd.csv'));
}

const CASES: BadInput[] = [
  // Files
  { name: 'missing file', tool: 'load_data', args: events('nope.csv'), names: 'nope.csv' },
  { name: 'empty file', tool: 'load_data', args: events('empty.csv'), names: 'empty.csv' },
  { name: 'binary file', tool: 'load_data', args: events('binary.csv'), names: 'binary.csv' },
  { name: 'UTF-16 file', tool: 'load_data', args: events('utf16.csv'), names: 'utf16.csv' },
  { name: 'Latin-1 file', tool: 'load_data', args: events('latin1.csv'), names: 'latin1.csv' },
  { name: 'header only', tool: 'load_data', args: events('header-only.csv'), names: 'header-only.csv' },
  { name: 'ragged rows', tool: 'load_data', args: events('ragged.csv'), names: 'ragged.csv' },
  { name: 'gigantic field', tool: 'load_data', args: events('gigantic.csv'), names: 'gigantic.csv' },
  { name: 'gzip that is not gzip', tool: 'load_data', args: events('not-gzip.csv.gz'), names: 'not-gzip.csv.gz' },
  { name: 'truncated gzip', tool: 'load_data', args: events('truncated.csv.gz'), names: 'truncated.csv.gz' },
  { name: 'broken JSON', tool: 'load_data', args: events('broken.json'), names: 'broken.json' },
  { name: 'fake Parquet', tool: 'load_data', args: events('fake.parquet'), names: 'fake.parquet' },
  { name: 'spreadsheet', tool: 'load_data', args: events('sheet.xlsx'), names: 'sheet.xlsx' },
  { name: 'folder instead of file', tool: 'load_data', args: events('folder.csv'), names: 'folder.csv' },
  { name: 'glob matching nothing', tool: 'load_data', args: events('*.nomatch.csv'), names: '*.nomatch.csv' },
  { name: 'CSV read as Parquet', tool: 'load_data', args: events('good.csv', { format: 'parquet' }), names: 'good.csv' },
  { name: 'no user column', tool: 'load_data', args: events('no-user.csv'), names: 'user_id' },
  { name: 'no timestamp column', tool: 'load_data', args: events('no-time.csv'), names: 'timestamp' },
  // Paths
  { name: '/etc/passwd', tool: 'load_data', args: { table: 'events', path: '/etc/passwd' }, names: '/etc/passwd' },
  { name: '/dev/zero', tool: 'load_data', args: { table: 'events', path: '/dev/zero' }, names: '/dev/zero' },
  { name: 'outside the roots', tool: 'load_data', args: (_, out) => ({ table: 'events', path: path.join(out, 'secret.csv') }), names: 'secret.csv' },
  { name: 'glob outside the roots', tool: 'load_data', args: (_, out) => ({ table: 'events', path: path.join(out, '*.csv') }), names: '*.csv' },
  { name: 'symlink file escape', tool: 'load_data', args: events('link.csv'), names: 'link.csv' },
  { name: 'symlink folder escape', tool: 'load_data', args: (dir) => ({ table: 'events', path: path.join(dir, 'linkdir', 'secret.csv') }), names: 'secret.csv' },
  { name: 'symlink to /etc/passwd', tool: 'load_data', args: events('passwd.csv'), names: 'passwd' },
  { name: 'dot-dot escape', tool: 'load_data', args: (dir) => ({ table: 'events', path: `${dir}/../../../../etc/passwd` }), names: 'passwd' },
  { name: 'relative dot-dot escape', tool: 'load_data', args: { table: 'events', path: '../../../../../../etc/hosts' }, names: 'hosts' },
  { name: 'https URL', tool: 'load_data', args: { table: 'events', path: 'https://example.com/events.csv' }, names: 'https://example.com/events.csv' },
  { name: 'file URL', tool: 'load_data', args: { table: 'events', path: 'file:///etc/passwd' }, names: 'file:///etc/passwd' },
  { name: 'NUL byte in path', tool: 'load_data', args: (dir) => ({ table: 'events', path: `${dir}/good.csv\u0000.txt` }), names: 'good.csv' },
  { name: 'empty path', tool: 'load_data', args: { table: 'events', path: '' }, names: 'path' },
  { name: 'empty path list', tool: 'load_data', args: { table: 'events', path: [] }, names: 'path' },
  { name: 'one bad path in a list', tool: 'load_data', args: (dir, out) => ({ table: 'events', path: [path.join(dir, 'good.csv'), path.join(out, 'secret.csv')] }), names: 'secret.csv' },
  { name: 'path of wrong type', tool: 'load_data', args: { table: 'events', path: 42 }, names: '42' },
  // Arguments of load_data
  { name: 'missing table', tool: 'load_data', args: (dir) => ({ path: path.join(dir, 'good.csv') }), names: 'table' },
  { name: 'unknown table', tool: 'load_data', args: (dir) => ({ table: 'accounts_v2', path: path.join(dir, 'good.csv') }), names: 'accounts_v2' },
  { name: 'unknown mode', tool: 'load_data', args: events('good.csv', { mode: 'upsert' }), names: 'upsert' },
  { name: 'unknown format', tool: 'load_data', args: events('good.csv', { format: 'xlsx' }), names: 'xlsx' },
  { name: 'long delimiter', tool: 'load_data', args: events('good.csv', { delimiter: '|||||' }), names: '|||||' },
  { name: 'empty event name', tool: 'load_data', args: events('no-time.csv', { eventName: '' }), names: 'eventName' },
  { name: 'unknown argument', tool: 'load_data', args: events('good.csv', { tabel: 'events' }), names: 'tabel' },
  // Mappings
  { name: 'mapping to a missing column', tool: 'load_data', args: events('good.csv', { mapping: { user_id: 'object_id' } }), names: 'object_id' },
  { name: 'mapping of an unknown column', tool: 'load_data', args: events('good.csv', { mapping: { customer: 'user_id' } }), names: 'customer' },
  { name: 'mapping to an empty name', tool: 'load_data', args: events('good.csv', { mapping: { user_id: '' } }), names: 'user_id' },
  { name: 'mapping one source twice', tool: 'load_data', args: events('good.csv', { mapping: { user_id: 'event', event: 'event' } }), names: 'event' },
  // Values
  { name: 'unparseable dates', tool: 'load_data', args: events('bad-dates.csv'), names: 'not a date' },
  { name: 'future dates', tool: 'load_data', args: events('future.csv'), names: '2999' },
  { name: 'ancient dates', tool: 'load_data', args: events('ancient.csv'), names: '1066' },
  { name: 'ambiguous day and month', tool: 'load_data', args: events('ambiguous.csv'), names: '03/04/2024' },
  { name: 'invalid timestamp format', tool: 'load_data', args: events('good.csv', { timestampFormat: '%Q-%J' }), names: '%Q-%J' },
  { name: 'epoch format on text', tool: 'load_data', args: events('epoch-text.csv', { timestampFormat: 'epoch_s' }), names: 'abc' },
  { name: 'unknown time zone', tool: 'load_data', args: events('good.csv', { sourceTimeZone: 'Mars/Olympus_Mons' }), names: 'Mars/Olympus_Mons' },
  { name: 'negative amounts', tool: 'load_data', args: (dir) => ({ table: 'billing', path: path.join(dir, 'negative.csv') }), names: '-50' },
  { name: 'NaN amounts', tool: 'load_data', args: (dir) => ({ table: 'billing', path: path.join(dir, 'nan.csv') }), names: /NaN/i },
  { name: 'NPS score out of range', tool: 'load_data', args: (dir) => ({ table: 'nps', path: path.join(dir, 'nps-range.csv') }), names: '11' },
  { name: 'NPS score not a number', tool: 'load_data', args: (dir) => ({ table: 'nps', path: path.join(dir, 'nps-nan.csv') }), names: /NaN|ten/ },
  { name: 'empty user ids', tool: 'load_data', args: events('empty-ids.csv'), names: 'empty user id' },
  { name: 'every billing kind unknown', tool: 'load_data', args: (dir) => ({ table: 'billing', path: path.join(dir, 'kinds.csv') }), names: 'teleport' },
  { name: 'support file with no rows', tool: 'load_data', args: (dir) => ({ table: 'support', path: path.join(dir, 'header-only.csv') }), names: 'header-only.csv' },
  // Scoring
  { name: 'impossible as-of date', tool: 'compute_scores', args: { asOf: '2026-02-30' }, names: '2026-02-30' },
  { name: 'as-of in words', tool: 'compute_scores', args: { asOf: 'yesterday' }, names: 'yesterday' },
  { name: 'as-of before any event', tool: 'compute_scores', args: { asOf: '1990-01-01' }, names: '1990-01-01' },
  // Lists, limits and cursors
  { name: 'limit zero', tool: 'find_users', args: { limit: 0 }, names: 'limit' },
  { name: 'limit above maximum', tool: 'find_users', args: { limit: 501 }, names: '501' },
  { name: 'fractional limit', tool: 'find_users', args: { limit: 2.5 }, names: '2.5' },
  { name: 'limit as text', tool: 'find_users', args: { limit: 'ten' }, names: 'ten' },
  { name: 'negative limit', tool: 'find_users', args: { limit: -5 }, names: '-5' },
  { name: 'garbage cursor', tool: 'find_users', args: { cursor: 'garbage!!' }, names: 'garbage!!' },
  { name: 'forged negative offset', tool: 'find_users', args: { cursor: Buffer.from('{"o":-10,"k":"x"}').toString('base64url') }, names: 'cursor' },
  { name: 'cursor over maximum length', tool: 'find_users', args: { cursor: 'a'.repeat(600) }, names: 'cursor' },
  { name: 'unknown segment', tool: 'find_users', args: { segment: 'whales' }, names: 'whales' },
  { name: 'unknown engagement tier', tool: 'find_users', args: { engagementTier: 'superstar' }, names: 'superstar' },
  { name: 'unknown order column', tool: 'find_users', args: { orderBy: 'password' }, names: 'password' },
  { name: 'unknown user', tool: 'explain_user', args: { userId: 'nobody-here' }, names: 'nobody-here' },
  { name: 'empty user id', tool: 'explain_user', args: { userId: '' }, names: 'userId' },
  { name: 'export format', tool: 'export_segment', args: { segment: 'power', format: 'xlsx' }, names: 'xlsx' },
  { name: 'export unknown rule segment', tool: 'export_segment', args: { segmentName: 'Whale Watchers' }, names: 'Whale Watchers' },
  { name: 'export unknown tier', tool: 'export_segment', args: { churnRiskTier: 'extreme' }, names: 'extreme' },
  { name: 'unknown diagnostic id', tool: 'save_diagnostic_answers', args: { answers: { favourite_colour: 'blue' } }, names: 'favourite_colour' },
  { name: 'overlong answer', tool: 'save_diagnostic_answers', args: { answers: { decisions: 'x'.repeat(2001) } }, names: 'decisions' },
  // Rules
  { name: 'misspelt function in a rule', tool: 'define_segment', args: { rule: 'segment "Bad" { conditions { events.sesion_count(last_7_days) > 1 } }' }, names: 'sesion_count' },
  { name: 'unterminated rule', tool: 'define_segment', args: { rule: 'segment "Bad" { conditions {' }, names: /line 1|1:/ },
  { name: 'SQL in a rule', tool: 'define_segment', args: { rule: "segment \"Bad\" { conditions { user.plan = 'x'; DROP TABLE events } }" }, names: ';' },
  { name: 'empty rule', tool: 'define_segment', args: { rule: '' }, names: 'rule' },
  { name: 'two segments in one rule', tool: 'define_segment', args: { rule: 'segment "A" { conditions { user.days_since_signup >= 1 } } segment "B" { conditions { user.days_since_signup >= 2 } }' }, names: /one segment|exactly one|2 segments|two/i },
  { name: 'argument on a tool without arguments', tool: 'describe_data', args: { verbose: true }, names: 'verbose' },
];

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = await harness.ws.rowCount(table);
  return counts;
}

function resolve<T>(value: T | ((data: string, outside: string) => T)): T {
  return typeof value === 'function' ? (value as (d: string, o: string) => T)(data, outside) : value;
}

beforeAll(async () => {
  outside = mkdtempSync(path.join(tmpdir(), 'segmentation-outside-'));
  harness = await startHarness();
  data = path.join(harness.dir, 'data');
  mkdirSync(data);
  writeCorpus();
  await loadFixture(harness);
});

afterAll(async () => {
  await harness.close();
  rmSync(outside, { recursive: true, force: true });
});

describe('bad input corpus', () => {
  test('corpus has at least 60 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  test.each(CASES.map((item) => [item.name, item] as const))('%s', async (_, item) => {
    const before = await rowCounts();
    const result = await harness.call(item.tool, resolve(item.args));
    const message = textOf(result);
    expect(result.isError, `not an error: ${message.slice(0, 300)}`).toBe(true);
    const names = resolve(item.names);
    if (names instanceof RegExp) expect(message).toMatch(names);
    else expect(message).toContain(names);
    expect(message, 'message gives no next step').toMatch(ADVICE);
    expect(message).not.toMatch(/failed unexpectedly/);

    const followUp = await harness.call('describe_data');
    expect(followUp.isError).toBeFalsy();
    expect(await rowCounts()).toEqual(before);
  });

  test('unknown tool is reported', async () => {
    const result = await harness.call('drop_everything');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('drop_everything');
  });
});
