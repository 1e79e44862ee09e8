#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { analyze } from './analyze.js';
import type { TableName } from './ingest/index.js';
import { SERVE_OPTIONS_HELP, serve } from './serve.js';
import { UserInputError, Workspace } from './workspace/index.js';

const HELP = `segmentation-mcp: product-led-growth user segmentation over MCP, on DuckDB.

Usage:
  segmentation-mcp                         serve MCP over stdio (same as "serve")
  segmentation-mcp serve [options]         serve MCP over stdio, or Streamable HTTP with --http
  segmentation-mcp analyze --events FILE --out DIR [options]
                                           load, score and write DIR/strategy.md and DIR/users.csv
  segmentation-mcp demo [--out DIR]        run the consultative flow on the bundled fixture
  segmentation-mcp backtest --events FILE --as-of D --observe-until D2 [options]
                                           score as of D and measure who churned by D2 (AUC, lift)
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
  --workspace PATH     keep the workspace in this file (default: in memory)
`;

const TABLES: TableName[] = ['events', 'users', 'billing', 'support', 'nps'];

function parseMappings(entries: readonly string[]): Partial<Record<TableName, Record<string, string>>> {
  const result: Partial<Record<TableName, Record<string, string>>> = {};
  for (const entry of entries) {
    const match = /^([a-z]+)\.([a-z_]+)=(.+)$/.exec(entry);
    if (!match || !TABLES.includes(match[1] as TableName)) {
      throw new UserInputError(
        `Invalid --map "${entry}": write TABLE.COLUMN=SOURCE, e.g. users.user_id=object_id, with TABLE one of ${TABLES.join(', ')}.`,
      );
    }
    const table = match[1] as TableName;
    result[table] = { ...result[table], [match[2]]: match[3] };
  }
  return result;
}

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
      workspace: { type: 'string' },
    },
    strict: true,
  });
  if (!values.events) throw new UserInputError('Missing --events FILE: analyze needs an events export.');
  if (!values.out) throw new UserInputError('Missing --out DIR: the folder where strategy.md and users.csv are written.');

  let settings: unknown;
  if (values.config) {
    try {
      settings = JSON.parse(readFileSync(values.config, 'utf8'));
    } catch (error) {
      throw new UserInputError(`Cannot read the settings file ${values.config}: ${(error as Error).message}.`);
    }
  }
  if (values['time-zone']) settings = { ...(settings as object), timeZone: values['time-zone'] };

  const mappings = parseMappings(values.map ?? []);
  const loadOptions: Partial<Record<TableName, Record<string, unknown>>> = {};
  for (const table of TABLES) if (mappings[table]) loadOptions[table] = { mapping: mappings[table] };
  loadOptions.events = {
    ...loadOptions.events,
    ...(values['event-name'] ? { eventName: values['event-name'] } : {}),
    ...(values['timestamp-format'] ? { timestampFormat: values['timestamp-format'] } : {}),
  };

  const ws = await Workspace.open({ path: values.workspace ?? ':memory:' });
  try {
    const result = await analyze(
      ws,
      {
        files: { events: values.events, users: values.users, billing: values.billing, support: values.support, nps: values.nps },
        loadOptions,
        asOf: values['as-of'],
        settings,
        outDir: values.out,
      },
      { report: ({ message }) => message && process.stderr.write(`… ${message}\n`) },
    );
    for (const load of result.loads) {
      const rejected = load.rowsRejected > 0 ? `, ${load.rowsRejected} rejected` : '';
      process.stderr.write(`${load.table}: ${load.rowsLoaded} rows loaded${rejected}\n`);
    }
    process.stderr.write(`Scored ${result.run.users} users as of ${result.run.asOf}.\n`);
    process.stdout.write(`${result.strategyPath}\n${result.usersCsvPath}\n`);
  } finally {
    ws.close();
  }
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
