import { z } from 'zod';
import { configureSettings } from '../src/scoring/index.js';
import { defineTool } from './tool.js';

export const configureScoringTool = defineTool({
  name: 'configure_scoring',
  title: 'Show or change the scoring settings',
  description:
    'Show the scoring settings of this workspace (call it with no changes), or change them: time zone, product cadence ' +
    '(daily, weekly, monthly: sets the dormancy threshold of 7, 21 or 60 days), the event names that mean pricing page, ' +
    'locked feature, cancel page, invite and collaboration, activation milestones (events with points), plan values, ' +
    'usage limits per plan, the RFM monetary source, and the bands, points and tiers of the four models. Changes are ' +
    'merged over the current settings one level deep and validated: overlapping bands, points that do not add up to the ' +
    "model's maximum, and event names absent from the loaded events are rejected with the setting path and the reason, " +
    'and nothing is saved. Saved changes apply from the next compute_scores run: run it again afterwards.',
  inputSchema: {
    changes: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Settings to change, e.g. {"productCadence": "daily"}, {"milestones": [{"event": "report_created", "points": 100}]} ' +
          'or {"models": {"engagement": {...a whole model...}}}. Omit to only show the current settings.',
      ),
  },
  outputSchema: {
    saved: z.boolean().describe('True when the changes were valid and saved; false when nothing was given.'),
    settings: z.record(z.string(), z.unknown()).describe('The complete settings now in force.'),
    warnings: z.array(z.string()).describe('Things to check in the saved settings, such as milestone events that no loaded event completes.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler({ ws }, { changes }) {
    const result = await configureSettings(ws, changes);
    const summary = result.saved
      ? [
          `Saved the settings (${Object.keys(changes ?? {}).join(', ')}). Run compute_scores again to apply them.`,
          ...result.warnings,
        ].join('\n')
      : `Current settings: time zone ${result.settings.timeZone}, cadence ${result.settings.productCadence}, ` +
        `RFM monetary from ${result.settings.rfm.monetary}, activated from an activation score of ` +
        `${result.settings.lifecycle.activatedMinScore}. The full settings are in the structured result.`;
    return {
      summary,
      structured: {
        saved: result.saved,
        settings: result.settings as unknown as Record<string, unknown>,
        warnings: result.warnings,
      },
    };
  },
});
