#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadOptionsFrom, readSettingsOptions } from './cli-options.js';
import { analyze } from './analyze.js';
import type { TableName } from './ingest/index.js';
import { readRuleFile } from './segments/rule-files.js';
import { SERVE_OPTIONS_HELP, serve } from './serve.js';
import { UserInputError, Workspace } from './workspace/index.js';

const HELP = `segmentation-mcp: product-led-growth user segmentation over MCP, on DuckDB.

Usage:
  segmentation-mcp                         serve MCP over stdio (same as "serve")
  segmentation-mcp serve [options]         serve MCP over stdio, or Streamable HTTP with --http
  segmentation-mcp analyze --events FILE --out DIR [options]
                                           load, score and write DIR/strategy.md, DIR/users.csv
                                           and DIR/segments.csv
  segmentation-mcp check-rules FILE...     parse and check segment rule files, print every error
  segmentation-mcp demo [--out DIR]        run the consultative flow on the bundled fixture
  segmentation-mcp backtest --events FILE --as-of D --observe-until D2 [options]
                                           score as of D and measure who churned by D2 (AUC, lift);
                                           "backtest --help" lists its options
  segmentation-mcp --help

${SERVE_OPTIONS_HELP}
Options for analyze:
  --events FILE        events export (required); also --users, --billing, --support, --nps
  --out DIR            output folder for strategy.md and users.csv (required)
  --as-of YYYY-MM-DD   last day included (default: the day of the latest event)
  --event-name NAME    event name for an events file without an event column (a login log)
  --map TABLE.COLUMN=SOURCE
                       map a canonical column to a source column, e.g. users.user_id=object_id
  --timestamp-format F strptime format or epoch_s / epoch_ms for the events timestamps
  --time-zone ZONE     IANA zone for calendar days (default UTC)
  --config FILE        JSON settings (bands, tiers, events, plans) merged over the defaults
  --rules FILE         segment rule file to save and evaluate (repeatable); sizes go to segments.csv
  --workspace PATH     keep the workspace in this file (default: in memory)
`;

const TABLES: TableName[] = ['events', 'users', 'billing', 'support', 'nps'];

async function runAnalyze(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string' },
      users: { type: 'string' },
      billing: { type: 'string' },
      support: { type: 'string' },
      nps: { type: 'string' },
      out: { type: 'string' },
      'as-of': { type: 'string' },
      'event-name': { type: 'string' },
      map: { type: 'string', multiple: true },
      'timestamp-format': { type: 'string' },
      'time-zone': { type: 'string' },
      config: { type: 'string' },
      rules: { type: 'string', multiple: true },
      workspace: { type: 'string' },
    },
    strict: true,
  });
  if (!values.events) throw new UserInputError('Missing --events FILE: analyze needs an events export.');
  if (!values.out) throw new UserInputError('Missing --out DIR: the folder where strategy.md and users.csv are written.');

  const settings = readSettingsOptions(values.config, values['time-zone']);
  const loadOptions = loadOptionsFrom(values, TABLES);

  const ws = await Workspace.open({ path: values.workspace ?? ':memory:' });
  try {
    const result = await analyze(
      ws,
      {
        files: { events: values.events, users: values.users, billing: values.billing, support: values.support, nps: values.nps },
        loadOptions,
        asOf: values['as-of'],
        settings,
        ruleFiles: values.rules ?? [],
        outDir: values.out,
      },
      { report: ({ message }) => message && process.stderr.write(`… ${message}\n`) },
    );
    for (const load of result.loads) {
      const rejected = load.rowsRejected > 0 ? `, ${load.rowsRejected} rejected` : '';
      process.stderr.write(`${load.table}: ${load.rowsLoaded} rows loaded${rejected}\n`);
    }
    process.stderr.write(`Scored ${result.run.users} users as of ${result.run.asOf}.\n`);
    const saved = result.segments.segments.filter((segment) => segment.kind === 'saved');
    for (const segment of saved) {
      const note = segment.error ? ` (error: ${segment.error})` : segment.warning ? ` (${segment.warning})` : '';
      process.stderr.write(`segment "${segment.name}": ${segment.size} users${note}\n`);
    }
    process.stdout.write(`${result.strategyPath}\n${result.usersCsvPath}\n${result.segmentsCsvPath}\n`);
  } finally {
    ws.close();
  }
}

/** Parses and checks rule files without a workspace; event names are not checked because no data is loaded. */
function checkRuleFiles(files: string[]): number {
  if (files.length === 0) throw new UserInputError('Missing FILE: check-rules takes one or more segment rule files.');
  let failed = 0;
  for (const file of files) {
    try {
      const segments = readRuleFile(file);
      process.stdout.write(`${file}: ${segments.length} segment(s) OK: ${segments.map((s) => s.name.value).join(', ')}\n`);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      failed++;
      process.stderr.write(`${error.message}\n`);
    }
  }
  return failed > 0 ? 2 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'serve') {
      await serve(rest);
      return -1;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (command === 'analyze') {
      await runAnalyze(rest);
      return 0;
    }
    if (command === 'check-rules') {
      return checkRuleFiles(rest);
    }
    if (command === 'backtest') {
      const { runBacktest } = await import('./backtest-cli.js');
      await runBacktest(rest);
      return 0;
    }
    if (command === 'demo') {
      const { runDemo } = await import('./demo.js');
      await runDemo(rest);
      return 0;
    }
    if (command.startsWith('--')) {
      await serve(argv);
      return -1;
    }
    process.stderr.write(`Unknown command "${command}".\n\n${HELP}`);
    return 2;
  } catch (error) {
    if (error instanceof UserInputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`Error: ${(error as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`Error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
