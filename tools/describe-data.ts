import { z } from 'zod';
import { describeTables } from '../src/ingest/index.js';
import { describeCoverage } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

const componentCoverage = z.object({
  component: z.string(),
  label: z.string(),
  computable: z.boolean(),
  gaps: z.array(z.string()).describe('Each missing input with the file that would provide it.'),
});

export const describeDataTool = defineTool({
  name: 'describe_data',
  title: 'Describe the loaded data',
  description:
    'Show what the workspace holds: for each canonical table (events, users, billing, support, nps) the row count, ' +
    'columns, date range and distinct users; and, for every scoring model and component, whether it can be computed ' +
    'with the data loaded and which file would fill each gap (checked on the loaded tables, so it works before ' +
    'compute_scores). Use it after load_data and before compute_scores. It reads no files and changes nothing.',
  inputSchema: {},
  outputSchema: {
    tables: z.array(
      z.object({
        table: z.string(),
        loaded: z.boolean(),
        rows: z.number(),
        columns: z.array(z.object({ name: z.string(), type: z.string() })),
        dateRange: z.object({ min: z.string(), max: z.string() }).nullable(),
        distinctUsers: z.number().nullable(),
      }),
    ).describe('One entry per canonical table, loaded or not.'),
    inputs: z
      .record(z.string(), z.object({ available: z.boolean(), detail: z.string() }))
      .describe('Inputs of the scoring models in the data loaded now; detail says what is missing and which file fills it.'),
    models: z
      .record(
        z.string(),
        z.object({
          missingComponents: z.array(z.string()),
          totalRule: z.string(),
          components: z.array(componentCoverage),
        }),
      )
      .describe('Per model, every component, whether it can be computed, and how the total is formed.'),
    atRiskSignals: z.array(componentCoverage).describe('The four at-risk signals and whether each can fire.'),
    rfmMonetary: componentCoverage.describe('The RFM monetary score from the configured source (plan, seats or usage).'),
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws }) {
    const tables = await describeTables(ws);
    const coverage = await describeCoverage(ws);
    const loaded = tables.filter((t) => t.loaded && t.rows > 0);
    const lines = loaded.map(
      (t) =>
        `${t.table}: ${t.rows} rows${t.distinctUsers !== null ? `, ${t.distinctUsers} users` : ''}` +
        `${t.dateRange ? `, ${t.dateRange.min.slice(0, 10)} to ${t.dateRange.max.slice(0, 10)}` : ''}`,
    );
    const notLoaded = tables.filter((t) => !t.loaded || t.rows === 0).map((t) => t.table);
    const modelLines = coverage.models.map((model) => {
      const missing = model.components.filter((component) => !component.computable).map((component) => component.label);
      return `${model.label}: ${missing.length === 0 ? 'every component can be computed' : `missing ${missing.join(', ')}; ${model.totalRule}`}`;
    });
    const gaps = [
      ...new Set(
        [...coverage.models.flatMap((model) => model.components), ...coverage.atRiskSignals, coverage.rfmMonetary].flatMap(
          (component) => component.gaps,
        ),
      ),
    ];
    const summary = [
      loaded.length > 0 ? lines.join('\n') : 'Nothing is loaded yet: call load_data with an events file.',
      notLoaded.length > 0 ? `Not loaded: ${notLoaded.join(', ')}.` : '',
      modelLines.join('\n'),
      gaps.length > 0 ? `Gaps in the scoring inputs:\n- ${gaps.join('\n- ')}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    return {
      summary,
      structured: {
        tables: tables.map(({ loadReport: _loadReport, ...rest }) => rest),
        inputs: coverage.inputs,
        models: Object.fromEntries(
          coverage.models.map((model) => [
            model.model,
            {
              missingComponents: model.components.filter((c) => !c.computable).map((c) => c.component),
              totalRule: model.totalRule,
              components: model.components,
            },
          ]),
        ),
        atRiskSignals: coverage.atRiskSignals,
        rfmMonetary: coverage.rfmMonetary,
      },
    };
  },
});
