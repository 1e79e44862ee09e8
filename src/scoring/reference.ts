import type { Model } from './config.js';
import { orderedModels, type Settings } from './settings.js';

function edge(band: { min: number; minExclusive?: boolean }): string {
  return `${band.minExclusive ? '>' : '>='} ${band.min}`;
}

/** Returns the rows (one per band, signal or milestone) of one model's reference table. */
function componentRows(model: Model): string[] {
  return model.components.flatMap((component) => {
    const head = `| ${model.id} | ${component.id} (max ${component.max}) | ${component.window}`;
    if (component.kind === 'bands') {
      const rows = component.bands.map((band) => `${head} | \`${component.metric}\` ${edge(band)} | ${band.label} | ${band.points} |`);
      return [...rows, `${head} | \`${component.metric}\` is NULL | ${component.nullLabel} | ${component.nullPoints} |`];
    }
    if (component.kind === 'signals') {
      const combine = component.combine === 'max' ? 'largest fired signal' : 'sum of fired signals';
      return component.signals.map(
        (signal) => `${head} | \`${signal.metric}\` is true (${combine}, capped at ${component.max}) | ${signal.label} | ${signal.points} |`,
      );
    }
    return [`${head} | any of ${component.events.map((event) => `\`${event}\``).join(', ')} before the boundary | ${component.label} | ${component.max} |`];
  });
}

/** Renders the band, signal and milestone reference of every model as a Markdown table. */
export function bandReferenceTable(settings: Settings): string {
  const lines = ['| model | component | window | condition | label | points |', '|---|---|---|---|---|---|'];
  for (const model of orderedModels(settings)) lines.push(...componentRows(model));
  return lines.join('\n');
}

/** Renders the tiers of every model as a Markdown table. */
export function tierReferenceTable(settings: Settings): string {
  const lines = ['| model | tier | total from |', '|---|---|---|'];
  for (const model of orderedModels(settings)) {
    for (const tier of model.tiers) lines.push(`| ${model.id} | ${tier.name} | ${tier.min} |`);
  }
  return lines.join('\n');
}
