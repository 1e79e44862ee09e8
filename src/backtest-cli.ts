import { parseArgs } from 'node:util';
import { loadData, type TableName } from './ingest/index.js';
import { backtestScore, updateSettings } from './scoring/index.js';
import { loadOptionsFrom, readSettingsOptions } from './cli-options.js';
import { UserInputError, Workspace } from './workspace/index.js';

export const BACKTEST_HELP = `Options for backtest:
  --events FILE        events export (required); also --users, --billing
  --as-of YYYY-MM-DD   day the score is computed as of (required)
  --observe-until YYYY-MM-DD
                       last day of the observation period (required)
  --score NAME         churn_risk (default) or engagement
  --active-within N    observe only users active in the N days up to --as-of (default 30)
  --event-name, --map, --timestamp-format, --time-zone, --config: as for analyze
  --json               print the full result as JSON instead of a table
`;

const TABLES: TableName[] = ['events', 'users', 'billing'];

/** `segmentation-mcp backtest`: loads the files into an in-memory workspace and back-tests one score. */
export async function runBacktest(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(BACKTEST_HELP);
    return;
  }
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string' },
      users: { type: 'string' },
      billing: { type: 'string' },
      'as-of': { type: 'string' },
      'observe-until': { type: 'string' },
      score: { type: 'string' },
      'active-within': { type: 'string' },
      'event-name': { type: 'string' },
      map: { type: 'string', multiple: true },
      'timestamp-format': { type: 'string' },
      'time-zone': { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.events) throw new UserInputError('Missing --events FILE: backtest needs an events export.');
  if (!values['as-of']) throw new UserInputError('Missing --as-of YYYY-MM-DD: the day the score is computed as of.');
  if (!values['observe-until']) throw new UserInputError('Missing --observe-until YYYY-MM-DD: the last day observed.');
  const score = values.score ?? 'churn_risk';
  if (score !== 'churn_risk' && score !== 'engagement') {
    throw new UserInputError(`Invalid --score "${score}": use churn_risk or engagement.`);
  }
  const activeWithin = values['active-within'] === undefined ? undefined : Number(values['active-within']);
  if (activeWithin !== undefined && (!Number.isInteger(activeWithin) || activeWithin < 1)) {
    throw new UserInputError(`Invalid --active-within "${values['active-within']}": use a whole number of days, 1 or more.`);
  }

  const settings = readSettingsOptions(values.config, values['time-zone']);
  const loadOptions = loadOptionsFrom(values, TABLES);
  const ws = await Workspace.open({ path: ':memory:' });
  try {
    if (settings) await updateSettings(ws, settings);
    const files: [TableName, string | undefined][] = [
      ['users', values.users],
      ['events', values.events],
      ['billing', values.billing],
    ];
    for (const [table, file] of files) {
      if (!file) continue;
      const report = await loadData(ws, { ...loadOptions[table], table, path: file });
      process.stderr.write(`${table}: ${report.rowsLoaded} rows loaded\n`);
    }
    const result = await backtestScore(ws, {
      asOf: values['as-of'],
      observeUntil: values['observe-until'],
      score,
      activeWithinDays: activeWithin,
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const percent = (value: number | null) => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);
    const lines = [
      `score: ${result.score}, as of ${result.asOf}, observed until ${result.observeUntil}`,
      `population: ${result.outcomeRule}`,
      `users ${result.users}, churned ${result.churned} (${percent(result.churnRate)})`,
      `AUC ${result.auc === null ? 'n/a' : result.auc.toFixed(4)}`,
      `lift of the ${result.riskiestTier} tier: ${result.lift === null ? 'n/a' : result.lift.toFixed(2)}`,
      'tier\tusers\tchurned\tchurn rate',
      ...result.tiers.map((tier) => `${tier.tier}\t${tier.users}\t${tier.churned}\t${percent(tier.churnRate)}`),
      ...result.warnings.map((warning) => `warning: ${warning}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    ws.close();
  }
}
