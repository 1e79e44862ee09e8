import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Workspace } from '../src/workspace/index.js';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const FIXTURE = path.join(ROOT, 'fixtures/saas');
const dir = mkdtempSync(path.join(tmpdir(), 'cli-rules-'));

function runCli(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SEGMENTATION_MCP_LOG: 'silent' },
  });
}

const GOOD = `# custom segments
segment "Pricing Curious" {
  description: "Viewed pricing twice or more in two weeks."
  conditions { events.pricing_page_view(last_14_days) >= 2 }
  refresh: daily
}
segment "Exporters" {
  conditions { events.export_csv(last_30_days) >= 3 }
  refresh: weekly
}
`;

const BAD = `segment "Bad" {
  conditions { events.sesion_count(last_7_days) >= 2 AND user.plann = "pro" }
  refresh: hourly
}
`;

const goodFile = path.join(dir, 'good.seg');
const badFile = path.join(dir, 'bad.seg');
writeFileSync(goodFile, GOOD);
writeFileSync(badFile, BAD);

describe('check-rules', () => {
  test('valid file passes', () => {
    const result = runCli(['check-rules', goodFile]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('2 segment(s) OK: Pricing Curious, Exporters');
  });

  test('every error is printed with position', () => {
    const result = runCli(['check-rules', badFile]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('The rule has 3 errors:');
    expect(result.stderr).toContain(`${badFile}:2:23: Unknown function or event "events.sesion_count"`);
    expect(result.stderr).toContain('Did you mean "events.session_count"?');
    expect(result.stderr).toContain(`${badFile}:2:63: Unknown attribute "user.plann"`);
    expect(result.stderr).toContain(`${badFile}:3:12: Unknown refresh cadence "hourly"`);
  });

  test('missing file is named', () => {
    const result = runCli(['check-rules', path.join(dir, 'absent.seg')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`Cannot read the rule file ${path.join(dir, 'absent.seg')}: ENOENT`);
  });
});

describe('analyze --rules', () => {
  const out = path.join(dir, 'out');
  let rows: Map<string, string[]>;
  let ws: Workspace;

  beforeAll(async () => {
    const result = runCli([
      'analyze',
      '--events', path.join(FIXTURE, 'events.csv.gz'),
      '--users', path.join(FIXTURE, 'users.csv'),
      '--rules', goodFile,
      '--out', out,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const lines = readFileSync(path.join(out, 'segments.csv'), 'utf8').trim().split('\n');
    rows = new Map(lines.slice(1).map((line) => [line.split(',')[0], line.split(',')]));
    ws = await Workspace.open({ path: ':memory:' });
  });
  afterAll(() => ws.close());

  test('saved segment sizes match independent SQL', async () => {
    // Straight from the raw file: the last event day is the as-of day, windows end there.
    const independent = await ws.queryOne<{ pricing: number; exporters: number }>(`
      WITH e AS (SELECT user_id, event, timestamp::TIMESTAMP::DATE AS d FROM read_csv('${path.join(FIXTURE, 'events.csv.gz')}')),
      b AS (SELECT max(d) + 1 AS boundary FROM e),
      per_user AS (
        SELECT user_id,
          count(*) FILTER (WHERE event = 'pricing_page_view' AND d >= boundary - 14) AS pricing,
          count(*) FILTER (WHERE event = 'export_csv' AND d >= boundary - 30) AS exports
        FROM e, b GROUP BY user_id
      )
      SELECT count(*) FILTER (WHERE pricing >= 2) AS pricing, count(*) FILTER (WHERE exports >= 3) AS exporters FROM per_user`);
    expect(rows.get('Pricing Curious')?.[1]).toBe('saved');
    expect(Number(rows.get('Pricing Curious')?.[2])).toBe(independent?.pricing);
    expect(Number(rows.get('Exporters')?.[2])).toBe(independent?.exporters);
    expect(independent?.exporters).toBeGreaterThan(0);
  });

  test('built-in segments are listed too', () => {
    expect(rows.get('Behavioral: Power')?.[1]).toBe('builtin');
    expect(rows.size).toBeGreaterThanOrEqual(30);
  });

  test('bad rule file stops before loading', () => {
    const result = runCli(['analyze', '--events', path.join(FIXTURE, 'events.csv.gz'), '--rules', badFile, '--out', path.join(dir, 'bad-out')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('The rule has 3 errors:');
    expect(result.stderr).not.toContain('rows loaded');
  });
});
