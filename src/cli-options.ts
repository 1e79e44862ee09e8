import { readFileSync } from 'node:fs';
import type { LoadRequest, TableName } from './ingest/index.js';
import { UserInputError } from './workspace/index.js';

type TableOptions = Partial<Record<TableName, Omit<LoadRequest, 'table' | 'path'>>>;

/** Parses repeated `--map TABLE.COLUMN=SOURCE` options into a mapping per table. */
export function parseMappings(
  entries: readonly string[],
  tables: readonly TableName[],
): Partial<Record<TableName, Record<string, string>>> {
  const result: Partial<Record<TableName, Record<string, string>>> = {};
  for (const entry of entries) {
    const match = /^([a-z]+)\.([a-z_]+)=(.+)$/.exec(entry);
    if (!match || !tables.includes(match[1] as TableName)) {
      throw new UserInputError(
        `Invalid --map "${entry}": write TABLE.COLUMN=SOURCE, e.g. users.user_id=object_id, with TABLE one of ${tables.join(', ')}.`,
      );
    }
    const table = match[1] as TableName;
    result[table] = { ...result[table], [match[2]]: match[3] };
  }
  return result;
}

/** Reads `--config FILE` (JSON settings) and applies `--time-zone`; returns undefined when neither is given. */
export function readSettingsOptions(config: string | undefined, timeZone: string | undefined): Record<string, unknown> | undefined {
  let settings: Record<string, unknown> | undefined;
  if (config) {
    try {
      settings = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new UserInputError(`Cannot read the settings file ${config}: ${(error as Error).message}.`);
    }
  }
  if (timeZone) settings = { ...settings, timeZone };
  return settings;
}

/** Builds per-table load options from `--map`, `--event-name` and `--timestamp-format`. */
export function loadOptionsFrom(
  values: { map?: string[]; 'event-name'?: string; 'timestamp-format'?: string },
  tables: readonly TableName[],
): TableOptions {
  const mappings = parseMappings(values.map ?? [], tables);
  const options: TableOptions = {};
  for (const table of tables) if (mappings[table]) options[table] = { mapping: mappings[table] };
  options.events = {
    ...options.events,
    ...(values['event-name'] ? { eventName: values['event-name'] } : {}),
    ...(values['timestamp-format'] ? { timestampFormat: values['timestamp-format'] } : {}),
  };
  return options;
}
