import { UserInputError } from '../workspace/index.js';

/** The canonical tables that `loadData` fills. */
export type TableName = 'events' | 'users' | 'billing' | 'support' | 'nps';

export const TABLE_NAMES: readonly TableName[] = ['events', 'users', 'billing', 'support', 'nps'];

/** Conversion applied to the source value of a canonical column. */
export type FieldKind = 'id' | 'text' | 'timestamp' | 'integer' | 'double' | 'sentiment' | 'billingKind';

/** A canonical column that a source column can fill. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: FieldKind;
  readonly required: boolean;
  /** Source names tried in order, compared with {@link normalizeName}. */
  readonly candidates: readonly string[];
}

export interface MappingEntry {
  source: string | null;
  how: 'explicit' | 'detected' | 'constant' | 'derived';
}

const USER_ID = ['user_id', 'userId', 'distinct_id', 'uid', 'customer_id', 'customerid', 'user'];
const EVENT = ['event', 'event_type', 'event_name', 'page', 'action', 'name'];
const TIMESTAMP = [
  'timestamp', 'time', 'ts', 'event_time', 'time_stamp', 'datetime', 'date', 'created_at',
  'occurred_at', 'original_timestamp', 'event_timestamp',
];
const SESSION = ['session_id', 'sessionId', '$session_id', 'ga_session_id'];
const ACCOUNT = ['account_id', 'org_id', 'company_id', 'team_id'];
const SIGNUP = ['signup_at', 'created_at', 'creation_time', 'signup_date', 'registered_at', 'registration'];
const PLAN = ['plan', 'level', 'tier', 'subscription', 'plan_name'];

function field(name: string, kind: FieldKind, required: boolean, candidates: readonly string[]): FieldSpec {
  return { name, kind, required, candidates };
}

/**
 * Canonical columns per table, in detection order. Required columns come first so that
 * they claim a source column before an optional column with an overlapping candidate.
 * For events, `plan` and `signup_at` are not stored in `events`: they feed the derived
 * `users` rows.
 */
export const TABLE_FIELDS: Record<TableName, readonly FieldSpec[]> = {
  events: [
    field('user_id', 'id', true, USER_ID),
    field('event', 'text', true, EVENT),
    field('ts', 'timestamp', true, TIMESTAMP),
    field('session_id', 'id', false, SESSION),
    field('account_id', 'id', false, ACCOUNT),
    field('plan', 'text', false, PLAN),
    field('signup_at', 'timestamp', false, SIGNUP.filter((name) => name !== 'created_at')),
  ],
  users: [
    field('user_id', 'id', true, [...USER_ID, 'object_id']),
    field('signup_at', 'timestamp', false, SIGNUP),
    field('plan', 'text', false, PLAN),
    field('role', 'text', false, ['role', 'user_role', 'job_role']),
    field('account_id', 'id', false, ACCOUNT),
    field('company', 'text', false, ['company', 'company_name', 'org', 'organization']),
    field('company_size', 'integer', false, ['company_size', 'employees', 'employee_count', 'num_employees']),
    field('industry', 'text', false, ['industry', 'vertical']),
    field('country', 'text', false, ['country', 'country_code']),
    field('seats', 'integer', false, ['seats', 'seat_count', 'licenses']),
  ],
  billing: [
    field('ts', 'timestamp', true, TIMESTAMP),
    field('kind', 'billingKind', true, ['kind', 'type', 'event_type', 'status']),
    field('user_id', 'id', false, USER_ID),
    field('account_id', 'id', false, ACCOUNT),
    field('amount', 'double', false, ['amount', 'value', 'price', 'revenue']),
    field('plan', 'text', false, PLAN),
  ],
  support: [
    field('user_id', 'id', true, USER_ID),
    field('ts', 'timestamp', true, TIMESTAMP),
    field('ticket_id', 'id', false, ['ticket_id', 'ticket', 'case_id', 'id']),
    field('sentiment', 'sentiment', false, ['sentiment', 'satisfaction', 'satisfaction_rating', 'csat']),
  ],
  nps: [
    field('user_id', 'id', true, USER_ID),
    field('ts', 'timestamp', true, TIMESTAMP),
    field('score', 'integer', true, ['score', 'nps', 'nps_score', 'rating']),
  ],
};

/** Lower-cases a column name and drops `_`, `-`, `$` and spaces, so `User-ID` matches `user_id`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_\-\s$]/g, '');
}

/** Finds the first source column that matches a candidate, skipping columns already used. */
function findColumn(columns: readonly string[], candidates: readonly string[], used: Set<string>): string | null {
  for (const candidate of candidates) {
    const wanted = normalizeName(candidate);
    const match = columns.find((column) => !used.has(column) && normalizeName(column) === wanted);
    if (match !== undefined) return match;
  }
  return null;
}

export interface MappingInput {
  readonly table: TableName;
  readonly columns: readonly string[];
  readonly explicit: Partial<Record<string, string>>;
  /** Columns picked by a vendor-shape rule before generic detection. */
  readonly vendor: Partial<Record<string, string>>;
  /** Canonical columns that may stay unmapped because a constant fills them (e.g. `event`). */
  readonly constants: ReadonlySet<string>;
  /** Canonical columns filled by a constant the caller asked for, so detection skips them. */
  readonly skip: ReadonlySet<string>;
  readonly fileLabel: string;
}

/**
 * Resolves canonical column -> source column: explicit entries first (validated), then
 * vendor-shape picks, then name detection. Raises a UserInputError for an unknown or
 * repeated source column and for a required column that cannot be found.
 */
export function resolveMapping(input: MappingInput): Record<string, MappingEntry> {
  const fields = TABLE_FIELDS[input.table];
  const known = new Set(fields.map((f) => f.name));
  const mapping: Record<string, MappingEntry> = {};
  const used = new Set<string>();

  for (const [canonical, source] of Object.entries(input.explicit)) {
    if (source === undefined) continue;
    if (!known.has(canonical)) {
      throw new UserInputError(
        `The mapping names '${canonical}', which is not a column of the ${input.table} table. ` +
          `Use one of: ${[...known].join(', ')}.`,
      );
    }
    if (!input.columns.includes(source)) {
      const hint = didYouMean(source, input.columns);
      throw new UserInputError(
        `The mapping ${canonical} -> '${source}' names a column that is not in ${input.fileLabel}.` +
          `${hint ? ` Did you mean '${hint}'?` : ''} The file's columns are: ${input.columns.join(', ')}.`,
      );
    }
    if (used.has(source)) {
      const other = Object.keys(mapping).find((key) => mapping[key].source === source);
      throw new UserInputError(
        `The mapping uses the source column '${source}' twice (for ${other} and ${canonical}). ` +
          'Map each source column to one canonical column only.',
      );
    }
    used.add(source);
    mapping[canonical] = { source, how: 'explicit' };
  }

  for (const spec of fields) {
    if (mapping[spec.name] || input.skip.has(spec.name)) continue;
    const vendorPick = input.vendor[spec.name];
    if (vendorPick !== undefined && !used.has(vendorPick) && input.columns.includes(vendorPick)) {
      used.add(vendorPick);
      mapping[spec.name] = { source: vendorPick, how: 'detected' };
      continue;
    }
    const found = findColumn(input.columns, spec.candidates, used);
    if (found !== null) {
      used.add(found);
      mapping[spec.name] = { source: found, how: 'detected' };
      continue;
    }
    if (spec.required && !input.constants.has(spec.name)) {
      throw new UserInputError(
        `Could not find a column for ${input.table}.${spec.name} in ${input.fileLabel}. ` +
          `Tried: ${spec.candidates.join(', ')}. The file's columns are: ${input.columns.join(', ')}. ` +
          `Pass mapping: { ${spec.name}: '<source column>' } to name it.`,
        { table: input.table, column: spec.name, columns: input.columns },
      );
    }
  }
  return mapping;
}

/** Returns the closest name when it is within a third of the name's length in edits. */
export function didYouMean(name: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of options) {
    const distance = editDistance(name.toLowerCase(), option.toLowerCase());
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length];
}

/** A recognised vendor export shape and the columns it fixes. */
export interface VendorShape {
  readonly name: string;
  readonly picks: Partial<Record<string, string>>;
  /** Source column that fills user_id when the main one is empty (Segment's anonymousId). */
  readonly fallbackUserId?: string;
  /** Source values of session_id that mean "no session" (Amplitude's -1). */
  readonly noSessionValues?: readonly string[];
  /** Column that identifies one logged event, added to the duplicate key. */
  readonly insertId?: string;
}

/** Detects Mixpanel, PostHog, Amplitude and Segment event exports from their column names. */
export function detectVendorShape(columns: readonly string[], flattenedMixpanel: boolean): VendorShape | null {
  const byName = new Map(columns.map((column) => [normalizeName(column), column]));
  const has = (...names: string[]) => names.every((name) => byName.has(normalizeName(name)));
  const col = (name: string) => byName.get(normalizeName(name)) as string;

  if (flattenedMixpanel) {
    // NOTE: projects created before 2023 export `time` in the project's time zone, but it is read as UTC.
    return {
      name: 'Mixpanel raw export',
      picks: { event: col('event'), ts: col('time'), ...(has('distinct_id') ? { user_id: col('distinct_id') } : {}) },
      insertId: has('$insert_id') ? col('$insert_id') : undefined,
    };
  }
  if (has('name', 'time', 'distinct_id', 'insert_id')) {
    return {
      name: 'Mixpanel event table',
      picks: { user_id: col('distinct_id'), event: col('name'), ts: col('time') },
      insertId: col('insert_id'),
    };
  }
  if (has('event_type', 'event_time') && (has('user_id') || has('amplitude_id'))) {
    return {
      name: 'Amplitude export',
      picks: { user_id: col(has('user_id') ? 'user_id' : 'amplitude_id'), event: col('event_type'), ts: col('event_time'), ...(has('session_id') ? { session_id: col('session_id') } : {}) },
      noSessionValues: ['-1'],
      insertId: has('$insert_id') ? col('$insert_id') : undefined,
    };
  }
  if (has('distinct_id', 'event', 'timestamp')) {
    return {
      name: 'PostHog export',
      picks: { user_id: col('distinct_id'), event: col('event'), ts: col('timestamp') },
      insertId: has('uuid') ? col('uuid') : undefined,
    };
  }
  if (has('anonymousId', 'event', 'timestamp') || has('userId', 'event', 'timestamp', 'messageId')) {
    return {
      name: 'Segment track',
      picks: { user_id: col(has('userId') ? 'userId' : 'anonymousId'), event: col('event'), ts: col('timestamp') },
      fallbackUserId: has('userId', 'anonymousId') ? col('anonymousId') : undefined,
      insertId: has('messageId') ? col('messageId') : undefined,
    };
  }
  return null;
}
