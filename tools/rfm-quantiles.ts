import { z } from 'zod';
import { rfmQuantiles, type RfmQuantileRequest } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

const counts = z.record(z.string(), z.number());

export const rfmQuantilesTool = defineTool({
  name: 'rfm_quantiles',
  title: 'Classic RFM over purchases',
  description:
    'Score customers 1-5 on recency, frequency and monetary value from purchase data: the payments of the billing ' +
    'table, or a transactions file (CSV, or columns separated by blanks such as the CDNOW master file). Orders on the ' +
    'same calendar day count as one purchase. Scores come from value ranks, so equal values share a score and heavy ' +
    'ties can leave some of the five scores empty. Writes the table rfm_quantile_scores and returns the counts per ' +
    'score and per RFM segment. Use it for purchase data (shops, subscriptions with payments); for the activity-based ' +
    'RFM of product users, use compute_scores instead. It reads only local files under the allowed folders.',
  inputSchema: {
    file: z.string().optional().describe('Transactions file under the allowed folders; omit to use the billing payments.'),
    format: z.enum(['csv', 'whitespace']).optional().describe('"csv" (default) or "whitespace" (blank-separated columns).'),
    userColumn: z.string().optional().describe('Customer id column of the file; default "user_id".'),
    dateColumn: z.string().optional().describe('Purchase date column of the file; default "date".'),
    amountColumn: z.string().optional().describe('Purchase value column of the file; default "amount".'),
    dateFormat: z.string().optional().describe('strptime format of the date, e.g. "%Y%m%d"; default: ISO dates.'),
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional().describe('Last day included; default the latest purchase day.'),
    monetary: z.enum(['mean', 'total']).optional().describe('M from the mean value per purchase day (default) or the total.'),
  },
  outputSchema: {
    asOf: z.string().describe('Last day included: recency counts the days from the last purchase day to this day.'),
    customers: z.number().describe('Customers scored: those with at least one purchase up to asOf.'),
    transactions: z.number().describe('Rows read as purchases.'),
    rowsRejected: z.number().describe('Rows without a customer, a readable date or a numeric value.'),
    bins: z.object({ r: counts, f: counts, m: counts }).describe('Customers per score; a score nobody has is absent.'),
    segments: counts.describe('Customers per RFM segment of the 125-code map.'),
    table: z.string().describe('Workspace table with one row per customer: values, scores, code and segment.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ ws, paths }, args) {
    const request: RfmQuantileRequest = {
      source: args.file
        ? {
            kind: 'file',
            path: paths.resolveReadable(args.file),
            format: args.format ?? 'csv',
            userColumn: args.userColumn ?? 'user_id',
            dateColumn: args.dateColumn ?? 'date',
            amountColumn: args.amountColumn ?? 'amount',
            dateFormat: args.dateFormat,
          }
        : { kind: 'billing' },
      asOf: args.asOf,
      monetary: args.monetary,
    };
    const result = await rfmQuantiles(ws, request);
    const line = (name: string, values: Record<string, number>) =>
      `${name}: ${Object.entries(values).map(([k, n]) => `${k}=${n}`).join(', ')}`;
    return {
      summary: [
        `Scored ${result.customers} customers from ${result.transactions} purchases as of ${result.asOf}` +
          `${result.rowsRejected > 0 ? ` (${result.rowsRejected} rows rejected)` : ''}.`,
        line('R', result.bins.r),
        line('F', result.bins.f),
        line('M', result.bins.m),
        line('Segments', result.segments),
      ].join('\n'),
      structured: result,
    };
  },
});
