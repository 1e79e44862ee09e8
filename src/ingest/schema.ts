import type { TableName } from './columns.js';

/** Column definitions of the canonical tables (see docs/data-model.md). */
export const CANONICAL_COLUMNS: Record<TableName, readonly [string, string][]> = {
  events: [
    ['user_id', 'VARCHAR NOT NULL'], ['event', 'VARCHAR NOT NULL'], ['ts', 'TIMESTAMP NOT NULL'],
    ['session_id', 'VARCHAR'], ['account_id', 'VARCHAR'], ['properties', 'JSON'],
  ],
  users: [
    ['user_id', 'VARCHAR NOT NULL'], ['signup_at', 'TIMESTAMP'], ['plan', 'VARCHAR'], ['role', 'VARCHAR'],
    ['account_id', 'VARCHAR'], ['company', 'VARCHAR'], ['company_size', 'INTEGER'], ['industry', 'VARCHAR'],
    ['country', 'VARCHAR'], ['seats', 'INTEGER'], ['properties', 'JSON'],
  ],
  billing: [
    ['user_id', 'VARCHAR'], ['account_id', 'VARCHAR'], ['ts', 'TIMESTAMP NOT NULL'], ['kind', 'VARCHAR NOT NULL'],
    ['amount', 'DOUBLE'], ['plan', 'VARCHAR'], ['properties', 'JSON'],
  ],
  support: [
    ['user_id', 'VARCHAR NOT NULL'], ['ts', 'TIMESTAMP NOT NULL'], ['ticket_id', 'VARCHAR'], ['sentiment', 'VARCHAR'],
    ['properties', 'JSON'],
  ],
  nps: [['user_id', 'VARCHAR NOT NULL'], ['ts', 'TIMESTAMP NOT NULL'], ['score', 'INTEGER NOT NULL']],
};

export function createTableSql(table: TableName): string {
  const columns = CANONICAL_COLUMNS[table].map(([name, type]) => `${name} ${type}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${table} (${columns})`;
}

/** Names of the stored columns of a table. */
export function storedColumns(table: TableName): string[] {
  return CANONICAL_COLUMNS[table].map(([name]) => name);
}

/** Columns that make two rows the same record; exact duplicates on these are dropped. */
export const DUPLICATE_KEYS: Record<TableName, readonly string[]> = {
  events: ['user_id', 'event', 'ts', 'session_id'],
  users: ['user_id'],
  billing: ['user_id', 'account_id', 'ts', 'kind', 'amount'],
  support: ['user_id', 'ts', 'ticket_id'],
  nps: ['user_id', 'ts', 'score'],
};

/** Billing kinds and the source spellings that map to them (compared lower-case, spaces and dashes as `_`). */
export const BILLING_KIND_SPELLINGS: Record<string, readonly string[]> = {
  payment: ['payment', 'paid', 'charge', 'charged', 'succeeded', 'payment_succeeded', 'invoice_paid', 'renewal'],
  payment_failed: ['payment_failed', 'failed', 'charge_failed', 'declined', 'invoice_payment_failed'],
  upgrade: ['upgrade', 'upgraded'],
  downgrade: ['downgrade', 'downgraded'],
  cancel: ['cancel', 'cancelled', 'canceled', 'cancellation', 'churn', 'churned'],
  cancel_page_view: ['cancel_page_view', 'cancel_page', 'cancellation_page_view'],
  refund: ['refund', 'refunded'],
};
