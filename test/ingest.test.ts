import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeTables, loadData, type LoadRequest } from '../src/ingest/index.js';
import { CancelledError, UserInputError, Workspace, type Progress } from '../src/workspace/index.js';

let dir: string;
let ws: Workspace;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ingest-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  ws = await Workspace.open({ path: ':memory:' });
});
afterEach(() => ws.close());

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

function csv(lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return ws.query(sql);
}

async function scalar(sql: string): Promise<unknown> {
  const row = await ws.queryOne(sql);
  return row ? Object.values(row)[0] : undefined;
}

async function expectUserError(request: LoadRequest, pattern: RegExp): Promise<UserInputError> {
  const error = await loadData(ws, request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserInputError);
  expect((error as Error).message).toMatch(pattern);
  return error as UserInputError;
}

const BASIC = csv(['user_id,event,timestamp,plan_hint', 'u1,login,2024-03-01T10:00:00Z,a', 'u2,view,2024-03-02T11:30:00Z,b']);

describe('formats', () => {
  it('csv', async () => {
    const report = await loadData(ws, { table: 'events', path: write('basic.csv', BASIC) });
    expect(report.format).toBe('csv');
    expect(report.rowsLoaded).toBe(2);
    expect(await scalar('SELECT count(*) FROM events')).toBe(2);
  });

  it('tab-separated with .tsv', async () => {
    const file = write('basic.tsv', BASIC.replaceAll(',', '\t'));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.rowsLoaded).toBe(2);
  });

  it('csv with an explicit delimiter and no header', async () => {
    const file = write('noheader.txt', 'u1;login;2024-03-01\nu2;view;2024-03-02\n');
    const report = await loadData(ws, {
      table: 'events',
      path: file,
      delimiter: ';',
      header: false,
      mapping: { user_id: 'column0', event: 'column1', ts: 'column2' },
    });
    expect(report.rowsLoaded).toBe(2);
  });

  it('gzip-compressed csv', async () => {
    const file = write('basic.csv.gz', gzipSync(BASIC));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.rowsLoaded).toBe(2);
  });

  it('json array', async () => {
    const file = write('array.json', JSON.stringify([
      { userId: 'u1', event: 'a', time: '2024-03-01T10:00:00Z' },
      { userId: 'u2', event: 'b', time: '2024-03-02T10:00:00Z' },
    ]));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.format).toBe('json');
    expect(report.rowsLoaded).toBe(2);
  });

  it('gzip-compressed json lines', async () => {
    const lines = ['{"uid":"u1","action":"a","ts":"2024-03-01 10:00:00"}', '{"uid":"u2","action":"b","ts":"2024-03-01 11:00:00"}'];
    const file = write('lines.jsonl.gz', gzipSync(lines.join('\n')));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.format).toBe('ndjson');
    expect(report.rowsLoaded).toBe(2);
  });

  it('parquet', async () => {
    const file = path.join(dir, 'events.parquet');
    await ws.run(
      `COPY (SELECT 'u' || i AS user_id, 'e' AS event, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i) HOUR AS ts FROM range(5) t(i))
       TO '${file}' (FORMAT parquet)`,
    );
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.format).toBe('parquet');
    expect(report.rowsLoaded).toBe(5);
    expect(report.hasTimeOfDay).toBe(true);
  });

  it('several files as a list', async () => {
    const a = write('part-a.csv', BASIC);
    const b = write('part-b.csv', csv(['user_id,event,timestamp', 'u3,login,2024-03-03T10:00:00Z']));
    const report = await loadData(ws, { table: 'events', path: [a, b] });
    expect(report.files).toEqual([a, b]);
    expect(report.rowsLoaded).toBe(3);
  });
});

describe('column detection', () => {
  it('names ignore case, underscores and dashes', async () => {
    const file = write('caps.csv', csv(['User-ID,Event Name,Occurred_At,Session_Id,Org_ID', 'u1,open,2024-01-01T00:00:01Z,s1,o1']));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.mapping).toMatchObject({
      user_id: { source: 'User-ID', how: 'detected' },
      event: { source: 'Event Name', how: 'detected' },
      ts: { source: 'Occurred_At', how: 'detected' },
      session_id: { source: 'Session_Id', how: 'detected' },
      account_id: { source: 'Org_ID', how: 'detected' },
    });
    expect(await rows('SELECT user_id, event, session_id, account_id FROM events')).toEqual([
      { user_id: 'u1', event: 'open', session_id: 's1', account_id: 'o1' },
    ]);
  });

  it('keeps leading zeros of csv ids', async () => {
    const file = write('zeros.csv', csv(['customer_id,event,date', '007,buy,2024-01-01']));
    await loadData(ws, { table: 'events', path: file });
    expect(await scalar('SELECT user_id FROM events')).toBe('007');
  });

  it('explicit mapping wins over detection', async () => {
    const file = write('explicit.csv', csv(['user_id,other_user,event,timestamp', 'a,b,x,2024-01-01']));
    const report = await loadData(ws, { table: 'events', path: file, mapping: { user_id: 'other_user' } });
    expect(report.mapping.user_id).toEqual({ source: 'other_user', how: 'explicit' });
    expect(await scalar('SELECT user_id FROM events')).toBe('b');
  });

  it('unmapped columns go into properties', async () => {
    const file = write('props.csv', csv(['user_id,event,timestamp,price,country', 'u1,buy,2024-01-01T10:00:00Z,9.5,DE']));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.unmappedColumns).toEqual(['price', 'country']);
    expect(await scalar("SELECT properties->>'country' FROM events")).toBe('DE');
    expect(await scalar("SELECT CAST(properties->'price' AS DOUBLE) FROM events")).toBe(9.5);
  });

  it('missing required column lists columns and candidates', async () => {
    const file = write('nouser.csv', csv(['who,event,timestamp', 'a,x,2024-01-01']));
    const error = await expectUserError({ table: 'events', path: file }, /events\.user_id/);
    expect(error.message).toMatch(/who, event, timestamp/);
    expect(error.message).toMatch(/distinct_id/);
    expect(error.message).toMatch(/mapping: \{ user_id:/);
  });

  it('mapping to a missing column suggests a near name', async () => {
    const file = write('typo.csv', BASIC);
    const error = await expectUserError({ table: 'events', path: file, mapping: { user_id: 'user_idd' } }, /'user_idd'/);
    expect(error.message).toMatch(/Did you mean 'user_id'\?/);
    expect(error.message).toMatch(/user_id, event, timestamp, plan_hint/);
  });

  it('same source column mapped twice', async () => {
    const file = write('twice.csv', BASIC);
    await expectUserError({ table: 'events', path: file, mapping: { user_id: 'event', event: 'event' } }, /'event' twice/);
  });

  it('mapping to an unknown canonical column', async () => {
    const file = write('unknown-canonical.csv', BASIC);
    await expectUserError({ table: 'events', path: file, mapping: { userid: 'user_id' } }, /'userid', which is not a column of the events table/);
  });
});

describe('timestamps', () => {
  async function loadTimes(name: string, values: string[], extra: Partial<LoadRequest> = {}) {
    const file = write(name, csv(['user_id,event,ts', ...values.map((v, i) => `u${i},e,${v}`)]));
    const report = await loadData(ws, { table: 'events', path: file, ...extra });
    const stored = await rows("SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') AS ts FROM events ORDER BY user_id");
    return { report, stored: stored.map((r) => r.ts) };
  }

  it('ISO with zones converts to UTC', async () => {
    const { report, stored } = await loadTimes('iso-zoned.csv', [
      '2024-03-01T10:00:00Z',
      '2024-03-01T10:00:00+02:00',
      '2024-03-01 10:00:00.250-0100',
      '2024-03-01 10:00:00 UTC',
      '2024-03-01 10:00 +05:30',
    ]);
    expect(report.timestampFormat).toBe('ISO 8601 timestamp');
    expect(stored).toEqual(['2024-03-01 10:00:00', '2024-03-01 08:00:00', '2024-03-01 11:00:00', '2024-03-01 10:00:00', '2024-03-01 04:30:00']);
  });

  it('naive ISO uses sourceTimeZone', async () => {
    const { stored } = await loadTimes('iso-naive.csv', ['2024-07-01 12:00:00', '2024-01-01T12:00:00'], { sourceTimeZone: 'Europe/Berlin' });
    expect(stored).toEqual(['2024-07-01 10:00:00', '2024-01-01 11:00:00']);
  });

  it('naive ISO defaults to the workspace zone', async () => {
    await ws.setMeta('settings', { timeZone: 'America/New_York' });
    const { stored } = await loadTimes('iso-workspace-zone.csv', ['2024-01-15 09:00:00']);
    expect(stored).toEqual(['2024-01-15 14:00:00']);
  });

  it('date only has no time of day', async () => {
    const { report } = await loadTimes('dates.csv', ['2024-01-01', '2024-01-02']);
    expect(report.timestampFormat).toBe('date only');
    expect(report.hasTimeOfDay).toBe(false);
  });

  it('local midnight in a source zone has no time of day', async () => {
    const { report, stored } = await loadTimes('dates-berlin.csv', ['2024-01-01', '2024-01-02'], { sourceTimeZone: 'Europe/Berlin' });
    expect(stored[0]).toBe('2023-12-31 23:00:00');
    expect(report.hasTimeOfDay).toBe(false);
  });

  it('compact YYYYMMDD dates', async () => {
    const { report, stored } = await loadTimes('compact.csv', ['20240131', '20240201']);
    expect(report.timestampFormat).toBe('date only (YYYYMMDD)');
    expect(stored).toEqual(['2024-01-31 00:00:00', '2024-02-01 00:00:00']);
  });

  it('epoch seconds by magnitude', async () => {
    const { report, stored } = await loadTimes('epoch-s.csv', ['1700000000', '1700003600']);
    expect(report.timestampFormat).toBe('epoch seconds');
    expect(stored).toEqual(['2023-11-14 22:13:20', '2023-11-14 23:13:20']);
  });

  it('epoch milliseconds by magnitude', async () => {
    const { report, stored } = await loadTimes('epoch-ms.csv', ['1700000000000', '1700003600500.0']);
    expect(report.timestampFormat).toBe('epoch milliseconds');
    expect(stored).toEqual(['2023-11-14 22:13:20', '2023-11-14 23:13:20']);
  });

  it('epoch numbers in json', async () => {
    const file = write('epoch.ndjson', '{"user_id":1,"event":"e","ts":1700000000}\n{"user_id":2,"event":"e","ts":1700000060}\n');
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.timestampFormat).toBe('epoch seconds');
    expect(await scalar("SELECT strftime(min(ts), '%H:%M:%S') FROM events")).toBe('22:13:20');
  });

  it('slash dates with a day above 12 are day first', async () => {
    const { report, stored } = await loadTimes('slash-dmy.csv', ['03/04/2024', '25/04/2024 13:45']);
    expect(report.timestampFormat).toBe('slash date %d/%m/%Y');
    expect(report.warnings.join(' ')).toMatch(/day\/month\/year/);
    expect(stored).toEqual(['2024-04-03 00:00:00', '2024-04-25 13:45:00']);
  });

  it('slash dates with a second part above 12 are month first', async () => {
    const { report, stored } = await loadTimes('slash-mdy.csv', ['03/04/2024', '04/25/2024']);
    expect(report.timestampFormat).toBe('slash date %m/%d/%Y');
    expect(stored).toEqual(['2024-03-04 00:00:00', '2024-04-25 00:00:00']);
  });

  it('ambiguous slash dates raise an error', async () => {
    const file = write('slash-ambiguous.csv', csv(['user_id,event,ts', 'u1,e,03/04/2024', 'u2,e,05/06/2024']));
    await expectUserError({ table: 'events', path: file }, /could be day\/month or month\/day.*timestampFormat/);
    expect(await ws.tableExists('events')).toBe(false);
  });

  it('explicit timestampFormat resolves ambiguity', async () => {
    const { report, stored } = await loadTimes('slash-explicit.csv', ['03/04/2024', '05/06/2024'], { timestampFormat: '%m/%d/%Y' });
    expect(report.timestampFormat).toBe('strptime %m/%d/%Y');
    expect(stored).toEqual(['2024-03-04 00:00:00', '2024-05-06 00:00:00']);
  });

  it('explicit epoch_ms', async () => {
    const { stored } = await loadTimes('explicit-ms.csv', ['1700000000000'], { timestampFormat: 'epoch_ms' });
    expect(stored).toEqual(['2023-11-14 22:13:20']);
  });

  it('unrecognised timestamp column raises an error', async () => {
    const file = write('words.csv', csv(['user_id,event,ts', 'u1,e,yesterday', 'u2,e,today']));
    await expectUserError({ table: 'events', path: file }, /'yesterday'.*timestampFormat/);
  });
});

describe('rejections and duplicates', () => {
  const MESSY = csv([
    'user_id,event,timestamp',
    'u1,login,2024-01-01T10:00:00Z', // 1 ok
    ',login,2024-01-01T10:00:00Z', // 2 empty user id
    'u2,,2024-01-01T10:00:00Z', // 3 empty event name
    'u3,login,2024-13-45T10:00:00Z', // 4 unparseable
    'u4,login,1970-01-01T00:00:00Z', // 5 before 1990
    'u5,login,2999-01-01T00:00:00Z', // 6 future
    'u1,login,2024-01-01T10:00:00Z', // 7 exact duplicate of row 1
    '   ,login,2024-01-02T10:00:00Z', // 8 blank user id
    'u6,login,', // 9 empty timestamp
  ]);

  it('counts each reason with sample rows', async () => {
    const report = await loadData(ws, { table: 'events', path: write('messy.csv', MESSY) });
    expect(report.rowsRead).toBe(9);
    expect(report.rowsLoaded).toBe(1);
    expect(report.duplicatesDropped).toBe(1);
    expect(report.rowsRejected).toBe(7);
    const byReason = Object.fromEntries(report.rejections.map((r) => [r.reason, r]));
    expect(byReason['empty user id']).toEqual({ reason: 'empty user id', count: 2, sampleRows: [2, 8] });
    expect(byReason['empty event name']).toEqual({ reason: 'empty event name', count: 1, sampleRows: [3] });
    expect(byReason["unparseable timestamp '2024-13-45T10:00:00Z'"]).toEqual({
      reason: "unparseable timestamp '2024-13-45T10:00:00Z'",
      count: 1,
      sampleRows: [4],
    });
    expect(byReason['timestamp before 1990']?.sampleRows).toEqual([5]);
    expect(byReason['timestamp in the future']?.sampleRows).toEqual([6]);
    expect(byReason['empty timestamp']?.sampleRows).toEqual([9]);
    expect(report.warnings.some((w) => /1 rows with a timestamp before 1990/.test(w))).toBe(true);
    expect(report.warnings.some((w) => /timestamp in the future/.test(w))).toBe(true);
  });

  it('sample rows stop at five', async () => {
    const lines = ['user_id,event,timestamp', ...Array.from({ length: 8 }, () => ',e,2024-01-01')];
    const report = await loadData(ws, { table: 'events', path: write('many-empty.csv', csv([...lines, 'u1,e,2024-01-01'])) });
    expect(report.rejections[0]).toEqual({ reason: 'empty user id', count: 8, sampleRows: [1, 2, 3, 4, 5] });
  });

  it('rows differing only in session are kept', async () => {
    const file = write('sessions.csv', csv(['user_id,event,timestamp,session_id', 'u1,e,2024-01-01T10:00:00Z,s1', 'u1,e,2024-01-01T10:00:00Z,s2']));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.duplicatesDropped).toBe(0);
    expect(report.rowsLoaded).toBe(2);
  });

  it('every row rejected is an error', async () => {
    const file = write('all-bad.csv', csv(['user_id,event,timestamp', ',e,2024-01-01']));
    await expectUserError({ table: 'events', path: file }, /None of the 1 rows .*all-bad\.csv.*1 empty user id.*unchanged/);
  });
});

describe('file errors', () => {
  it('missing file', async () => {
    await expectUserError({ table: 'events', path: path.join(dir, 'nope.csv') }, /File not found: .*nope\.csv\. Check the path/);
  });

  it('glob without matches', async () => {
    await expectUserError({ table: 'events', path: path.join(dir, 'nothing-*.csv') }, /No file matches the pattern/);
  });

  it('empty file', async () => {
    await expectUserError({ table: 'events', path: write('empty.csv', '') }, /is empty/);
  });

  it('header only', async () => {
    await expectUserError({ table: 'events', path: write('header.csv', 'user_id,event,timestamp\n') }, /no data rows/);
  });

  it('empty json array', async () => {
    await expectUserError({ table: 'events', path: write('empty-array.json', '[]') }, /no data rows|Could not read/);
  });

  it('binary file', async () => {
    await expectUserError({ table: 'events', path: write('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff])) }, /binary/);
  });

  it('invalid UTF-8', async () => {
    await expectUserError({ table: 'events', path: write('latin1.csv', Buffer.from('user_id,event,ts\nj\xfcrgen,e,2024-01-01\n', 'latin1')) }, /not valid UTF-8/);
  });

  it('gz that is not gzip', async () => {
    await expectUserError({ table: 'events', path: write('fake.csv.gz', BASIC) }, /not gzip-compressed/);
  });

  it('damaged gzip', async () => {
    const damaged = gzipSync(BASIC).subarray(0, 20);
    await expectUserError({ table: 'events', path: write('damaged.csv.gz', damaged) }, /damaged\.csv\.gz/);
  });

  it('unknown extension lists supported ones', async () => {
    await expectUserError({ table: 'events', path: write('data.xlsx', 'x') }, /'\.xlsx'.*\.csv, \.tsv, \.txt, \.parquet, \.json, \.ndjson, \.jsonl/);
  });

  it('malformed json names the file without a stack', async () => {
    const error = await expectUserError({ table: 'events', path: write('broken.json', '{"user_id": "u1", "event": ') }, /Could not read .*broken\.json as json/);
    expect(error.message).not.toMatch(/\n\s+at /);
  });

  it('not parquet', async () => {
    await expectUserError({ table: 'events', path: write('fake.parquet', 'hello') }, /not a Parquet file/);
  });

  it('directory outside the allowed ones', async () => {
    const allowed = path.join(dir, 'allowed');
    mkdirSync(allowed, { recursive: true });
    const inside = path.join(allowed, 'in.csv');
    writeFileSync(inside, BASIC);
    const outside = write('outside.csv', BASIC);
    const locked = await Workspace.open({ path: ':memory:', lockdown: true, allowedDirectories: [allowed] });
    try {
      expect((await loadData(locked, { table: 'events', path: inside })).rowsLoaded).toBe(2);
      const error = await loadData(locked, { table: 'events', path: outside }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toMatch(/outside\.csv.*outside the directories this server may read/);
      const globError = await loadData(locked, { table: 'events', path: path.join(dir, '*.csv') }).catch((e: unknown) => e);
      expect(globError).toBeInstanceOf(UserInputError);
      expect((globError as Error).message).toMatch(/Could not list the files matching/);
    } finally {
      locked.close();
    }
  });

  it('unknown time zone', async () => {
    await expectUserError({ table: 'events', path: write('zone.csv', BASIC), sourceTimeZone: 'Mars/Olympus' }, /Unknown time zone 'Mars\/Olympus'/);
  });
});

describe('transactions and modes', () => {
  it('append adds rows and skips stored duplicates', async () => {
    await loadData(ws, { table: 'events', path: write('first.csv', BASIC) });
    const more = write('more.csv', csv(['user_id,event,timestamp', 'u1,login,2024-03-01T10:00:00Z', 'u9,login,2024-03-05T10:00:00Z']));
    const report = await loadData(ws, { table: 'events', path: more, mode: 'append' });
    expect(report.rowsLoaded).toBe(1);
    expect(report.duplicatesDropped).toBe(1);
    expect(await scalar('SELECT count(*) FROM events')).toBe(3);
  });

  it('replace drops earlier rows', async () => {
    await loadData(ws, { table: 'events', path: write('replace-a.csv', BASIC) });
    await loadData(ws, { table: 'events', path: write('replace-b.csv', csv(['user_id,event,timestamp', 'u7,x,2024-01-01'])) });
    expect(await scalar('SELECT count(*) FROM events')).toBe(1);
  });

  it('cancel during writing rolls back', async () => {
    await loadData(ws, { table: 'events', path: write('keep.csv', BASIC) });
    const before = await ws.getMeta('load:events');
    const controller = new AbortController();
    const stages: string[] = [];
    const reporter = {
      signal: controller.signal,
      report(progress: Progress) {
        stages.push(progress.message ?? '');
        if (progress.message === 'committing') controller.abort();
      },
    };
    const bigger = write('bigger.csv', csv(['user_id,event,timestamp', ...Array.from({ length: 50 }, (_, i) => `x${i},e,2024-02-01`)]));
    await expect(loadData(ws, { table: 'events', path: bigger }, reporter)).rejects.toBeInstanceOf(CancelledError);
    expect(stages[0]).toBe('reading');
    expect(stages).toContain('committing');
    expect(await scalar('SELECT count(*) FROM events')).toBe(2);
    expect(await scalar("SELECT count(*) FROM events WHERE user_id = 'u1'")).toBe(1);
    expect(await ws.getMeta('load:events')).toEqual(before);
    expect(await scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '_ingest%'")).toBe(0);
  });

  it('cancel before start leaves no table', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      loadData(ws, { table: 'events', path: write('never.csv', BASIC) }, { signal: controller.signal, report: () => undefined }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(await ws.tableExists('events')).toBe(false);
  });

  it('failed load keeps existing rows', async () => {
    await loadData(ws, { table: 'events', path: write('stay.csv', BASIC) });
    const bad = write('bad-mapping.csv', BASIC);
    await expectUserError({ table: 'events', path: bad, mapping: { ts: 'missing' } }, /'missing'/);
    expect(await scalar('SELECT count(*) FROM events')).toBe(2);
  });

  it('report stored in _meta', async () => {
    const report = await loadData(ws, { table: 'events', path: write('meta.csv', BASIC) });
    const stored = await ws.getMeta<Record<string, unknown>>('load:events');
    expect(stored?.rowsLoaded).toBe(report.rowsLoaded);
    expect(stored?.mapping).toEqual(report.mapping);
  });
});

describe('user attributes on events', () => {
  it('derives users and fills only empty fields', async () => {
    await loadData(ws, { table: 'users', path: write('known-users.csv', csv(['user_id,plan,signup_at', 'u1,enterprise,', 'u2,,2023-05-01'])) });
    const events = write('events-with-plan.csv', csv([
      'user_id,event,timestamp,level,registration',
      'u1,e,2024-01-01T00:00:00Z,free,1690000000000',
      'u2,e,2024-01-01T00:00:00Z,free,1690000000000',
      'u2,e,2024-01-02T00:00:00Z,paid,1690000000000',
      'u3,e,2024-01-03T00:00:00Z,paid,1690000000000',
    ]));
    const report = await loadData(ws, { table: 'events', path: events });
    expect(report.derivedUsers).toBe(1);
    expect(report.mapping.plan).toEqual({ source: 'level', how: 'detected' });
    expect(await rows("SELECT user_id, plan, strftime(signup_at, '%Y-%m-%d') AS signup FROM users ORDER BY user_id")).toEqual([
      { user_id: 'u1', plan: 'enterprise', signup: '2023-07-22' },
      { user_id: 'u2', plan: 'paid', signup: '2023-05-01' },
      { user_id: 'u3', plan: 'paid', signup: '2023-07-22' },
    ]);
  });
});

describe('vendor shapes', () => {
  it('mixpanel raw export', async () => {
    const lines = [
      { event: 'Signed Up', properties: { distinct_id: 'a', time: 1700000000, $insert_id: 'i1', $browser: 'Chrome' } },
      { event: 'Signed Up', properties: { distinct_id: 'a', time: 1700000000, $insert_id: 'i1', $browser: 'Chrome' } },
      { event: 'Viewed', properties: { distinct_id: 'b', time: 1700000100, $insert_id: 'i2', $browser: 'Safari' } },
    ];
    const file = write('mixpanel.ndjson', lines.map((l) => JSON.stringify(l)).join('\n'));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.sourceShape).toBe('Mixpanel raw export');
    expect(report.timestampFormat).toBe('epoch seconds');
    expect(report.rowsLoaded).toBe(2);
    expect(report.duplicatesDropped).toBe(1);
    expect(await scalar(`SELECT json_extract_string(properties, '$."$browser"') FROM events WHERE user_id = 'b'`)).toBe('Safari');
  });

  it('posthog export', async () => {
    const file = write('posthog.jsonl', [
      '{"uuid":"1","event":"$pageview","distinct_id":"p1","timestamp":"2024-02-01T10:00:00.000000+00:00","properties":{"$current_url":"/"}}',
    ].join('\n'));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.sourceShape).toBe('PostHog export');
    expect(report.mapping.user_id.source).toBe('distinct_id');
  });

  it('amplitude export drops session -1', async () => {
    const file = write('amplitude.json', [
      '{"user_id":"a1","event_type":"play","event_time":"2025-07-01 17:18:45.113000","session_id":-1}',
      '{"user_id":"a1","event_type":"play","event_time":"2025-07-01 17:19:45.113000","session_id":1751390325000}',
    ].join('\n'));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.sourceShape).toBe('Amplitude export');
    expect(await rows('SELECT session_id FROM events ORDER BY ts')).toEqual([{ session_id: null }, { session_id: '1751390325000' }]);
  });

  it('segment track falls back to anonymousId', async () => {
    const file = write('segment.json', JSON.stringify([
      { type: 'track', event: 'Clicked', userId: 'known', anonymousId: 'anon-1', messageId: 'm1', timestamp: '2024-01-01T00:00:00.000Z' },
      { type: 'track', event: 'Clicked', userId: null, anonymousId: 'anon-2', messageId: 'm2', timestamp: '2024-01-01T00:01:00.000Z' },
    ]));
    const report = await loadData(ws, { table: 'events', path: file });
    expect(report.sourceShape).toBe('Segment track');
    expect(report.mapping.user_id).toEqual({ source: 'userId | anonymousId', how: 'derived' });
    expect(await rows('SELECT user_id FROM events ORDER BY ts')).toEqual([{ user_id: 'known' }, { user_id: 'anon-2' }]);
  });
});

describe('other tables', () => {
  it('billing kinds are normalised', async () => {
    const file = write('billing.csv', csv([
      'customer_id,type,amount,created_at',
      'c1,Payment Succeeded,$49.00,2024-01-01',
      'c1,refunded,10,2024-01-02',
      'c2,mystery,5,2024-01-03',
    ]));
    const report = await loadData(ws, { table: 'billing', path: file });
    expect(await rows('SELECT kind, amount FROM billing ORDER BY ts')).toEqual([
      { kind: 'payment', amount: 49 },
      { kind: 'refund', amount: 10 },
    ]);
    expect(report.rejections).toEqual([{ reason: "unknown billing kind 'mystery'", count: 1, sampleRows: [3] }]);
  });

  it('support sentiment from numbers and words', async () => {
    const file = write('support.csv', csv(['user_id,created_at,ticket_id,sentiment', 'u1,2024-01-01,t1,-0.4', 'u2,2024-01-01,t2,good', 'u3,2024-01-01,t3,0']));
    await loadData(ws, { table: 'support', path: file });
    expect(await rows('SELECT sentiment FROM support ORDER BY user_id')).toEqual([
      { sentiment: 'negative' },
      { sentiment: 'positive' },
      { sentiment: 'neutral' },
    ]);
  });

  it('nps scores outside 0 to 10 are rejected', async () => {
    const file = write('nps.csv', csv(['user_id,date,score', 'u1,2024-01-01,9', 'u2,2024-01-01,11']));
    const report = await loadData(ws, { table: 'nps', path: file });
    expect(report.rowsLoaded).toBe(1);
    expect(report.rejections[0].reason).toBe("score not between 0 and 10 '11'");
  });

  it('describeTables covers every canonical table', async () => {
    await loadData(ws, { table: 'events', path: write('describe.csv', BASIC) });
    const tables = await describeTables(ws);
    expect(tables.map((t) => t.table)).toEqual(['events', 'users', 'billing', 'support', 'nps']);
    const events = tables[0];
    expect(events.rows).toBe(2);
    expect(events.distinctUsers).toBe(2);
    expect(events.dateRange).toEqual({ min: '2024-03-01T10:00:00Z', max: '2024-03-02T11:30:00Z' });
    expect(events.columns.map((c) => c.name)).toEqual(['user_id', 'event', 'ts', 'session_id', 'account_id', 'properties']);
  });
});
