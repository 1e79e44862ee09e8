import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { USERS_CSV_COLUMNS } from '../src/analyze.js';
import { filterSql, type ScoringRun } from '../src/scoring/index.js';
import { segmentMemberQuery } from '../src/segments/index.js';
import { UserInputError, quoteLiteral } from '../src/workspace/index.js';
import { defineTool } from './tool.js';

const FORMATS = ['csv', 'parquet'] as const;
const MAX_LABEL_CHARS = 40;

/**
 * Builds the export file name from the server's own parts: a slug of the label (letters,
 * digits and dashes only), the time and a random suffix. Nothing of the label can add a
 * folder, a dot or an extension.
 */
export function exportFileName(label: string, format: (typeof FORMATS)[number], now: Date = new Date()): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_LABEL_CHARS).replace(/-+$/, '');
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${slug || 'users'}-${stamp}-${randomBytes(3).toString('hex')}.${format}`;
}

/** Names the file after the filters when the caller gives no label, e.g. "power-churn-risk-high". */
interface ExportFilters {
  readonly segment?: string;
  readonly segmentName?: string;
  readonly engagementTier?: string;
  readonly churnRiskTier?: string;
  readonly rfmSegment?: string;
  readonly atRisk?: boolean;
}

function filterLabel(args: ExportFilters): string {
  const parts: string[] = [];
  if (args.segment) parts.push(args.segment);
  if (args.segmentName) parts.push(args.segmentName);
  if (args.engagementTier) parts.push(`engagement-${args.engagementTier}`);
  if (args.churnRiskTier) parts.push(`churn-risk-${args.churnRiskTier}`);
  if (args.rfmSegment) parts.push(`rfm-${args.rfmSegment}`);
  if (args.atRisk === true) parts.push('at-risk');
  if (args.atRisk === false) parts.push('not-at-risk');
  return parts.length > 0 ? parts.join('-') : 'all-users';
}

export const exportSegmentTool = defineTool({
  name: 'export_segment',
  title: 'Export a user list to a file',
  description:
    'Write every user that matches a behavioural segment, a rule segment, a tier, an RFM segment or the at-risk flag (the same filters as ' +
    'find_users, all given filters must hold; none means every scored user) to a CSV or Parquet file in the exports ' +
    'folder of the workspace output folder, one row per user with scores, tiers, signals and RFM. Use it when the whole ' +
    'list is needed (a campaign audience, a CRM import) instead of paging find_users. Returns the row count and a ' +
    'resource link to the file. The server names the file; it cannot write anywhere else. Requires compute_scores first.',
  inputSchema: {
    segment: z.string().max(100).optional().describe('Behavioural segment: power, regular, casual, at_risk, dormant, new or inactive.'),
    segmentName: z.string().max(200).optional().describe('Name of a built-in or saved rule segment (see list_segments), e.g. "Power Users".'),
    engagementTier: z.string().max(100).optional().describe('highly_engaged, engaged, moderate, low or disengaged.'),
    churnRiskTier: z.string().max(100).optional().describe('high, moderate, low or healthy.'),
    rfmSegment: z.string().max(100).optional().describe('RFM segment name, e.g. champions or lost.'),
    atRisk: z.boolean().optional().describe('true: only users with two or more at-risk signals; false: only the others.'),
    format: z.enum(FORMATS).optional().describe('File format: "csv" (default, with a header row) or "parquet".'),
    label: z
      .string()
      .max(200)
      .optional()
      .describe('Words for the file name, e.g. "renewal campaign"; reduced to letters, digits and dashes. Default: the filters.'),
  },
  outputSchema: {
    uri: z.string().describe('file:// URI of the written file.'),
    path: z.string().describe('Absolute path of the written file.'),
    format: z.enum(FORMATS).describe('Format of the file.'),
    rows: z.number().describe('Users written, one row each.'),
    bytes: z.number().describe('Size of the file in bytes.'),
    asOf: z.string().describe('As-of day of the scores in the file.'),
    columns: z.array(z.string()).describe('Columns of the file, in order.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  exclusive: true,
  async handler({ ws, outputDir }, args) {
    const run = await ws.getMeta<ScoringRun>('scoring');
    if (!run || !(await ws.tableExists('user_scores'))) {
      throw new UserInputError('No scores yet: run compute_scores first, then export_segment.');
    }
    const format = args.format ?? 'csv';
    const { where, params } = await filterSql(ws, {
      behavioralSegment: args.segment,
      engagementTier: args.engagementTier,
      churnRiskTier: args.churnRiskTier,
      rfmSegment: args.rfmSegment,
      atRisk: args.atRisk,
      memberQuery: await segmentMemberQuery(ws, { segmentName: args.segmentName }),
    });

    const folder = path.join(outputDir, 'exports');
    mkdirSync(folder, { recursive: true });
    const file = path.join(folder, exportFileName(args.label ?? filterLabel(args), format));
    const options = format === 'csv' ? '(FORMAT csv, HEADER)' : '(FORMAT parquet)';
    await ws.run(
      `COPY (
         SELECT ${USERS_CSV_COLUMNS.join(', ')}
         FROM user_scores s JOIN user_metrics m USING (user_id)
         ${where}
         ORDER BY s.churn_risk_score DESC NULLS LAST, s.user_id
       ) TO ${quoteLiteral(file)} ${options}`,
      params as never,
    );
    const counted = await ws.queryOne<{ n: number }>(
      `SELECT count(*) AS n FROM user_scores s JOIN user_metrics m USING (user_id) ${where}`,
      params as never,
    );
    const rows = counted?.n ?? 0;
    const columns = USERS_CSV_COLUMNS.map((column) => column.split(/\s+AS\s+|\./i).at(-1) ?? column);
    const uri = pathToFileURL(file).href;
    const name = path.basename(file);
    return {
      summary: `Wrote ${rows} users (as of ${run.asOf}) to ${file} as ${format.toUpperCase()}.`,
      structured: { uri, path: file, format, rows, bytes: statSync(file).size, asOf: run.asOf, columns },
      links: [{ uri, name, mimeType: format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet', description: `${rows} users` }],
    };
  },
});
