import type { BandComponent, Component, Input, Model, SignalComponent } from './config.js';
import { quoteIdent, quoteLiteral } from '../workspace/index.js';

/** Column names a model writes to `user_scores`, shared by the SQL and the explanations. */
export const columns = {
  total: (model: Model) => `${model.id}_score`,
  tier: (model: Model) => `${model.id}_tier`,
  raw: (model: Model, component: Component) => `${model.id}_${component.id}_raw`,
  band: (model: Model, component: Component) => `${model.id}_${component.id}_band`,
  points: (model: Model, component: Component) => `${model.id}_${component.id}_points`,
  signals: (model: Model, component: Component) => `${model.id}_${component.id}_signals`,
};

export function isComponentAvailable(component: Component, available: ReadonlySet<Input>): boolean {
  return component.requires.every((input) => available.has(input));
}

function metricRef(metric: string): string {
  return `m.${quoteIdent(metric)}`;
}

/** `>=` or `>` against a band's lower edge. */
function bandTest(value: string, band: BandComponent['bands'][number]): string {
  return `${value} ${band.minExclusive ? '>' : '>='} ${band.min}`;
}

function bandColumns(model: Model, component: BandComponent): string[] {
  const value = metricRef(component.metric);
  const descending = component.bands.map((band, index) => ({ band, index })).reverse();
  const points = descending.map(({ band }) => `WHEN ${bandTest(value, band)} THEN ${band.points}`).join(' ');
  const bands = descending.map(({ band, index }) => `WHEN ${bandTest(value, band)} THEN ${index}`).join(' ');
  const lowest = component.bands[0];
  return [
    `${value} AS ${quoteIdent(columns.raw(model, component))}`,
    `CASE WHEN ${value} IS NULL THEN -1 ${bands} ELSE 0 END AS ${quoteIdent(columns.band(model, component))}`,
    `CASE WHEN ${value} IS NULL THEN ${component.nullPoints} ${points} ELSE ${lowest.points} END AS ${quoteIdent(columns.points(model, component))}`,
  ];
}

function signalColumns(model: Model, component: SignalComponent): string[] {
  const fired = component.signals.map((signal) => `CASE WHEN ${metricRef(signal.metric)} THEN ${signal.points} ELSE 0 END`);
  const combined = component.combine === 'max' ? `greatest(${fired.join(', ')})` : `(${fired.join(' + ')})`;
  const names = component.signals
    .map((signal) => `CASE WHEN ${metricRef(signal.metric)} THEN ${quoteLiteral(signal.metric)} END`)
    .join(', ');
  return [
    `list_filter([${names}], x -> x IS NOT NULL) AS ${quoteIdent(columns.signals(model, component))}`,
    `least(${component.max}, ${combined}) AS ${quoteIdent(columns.points(model, component))}`,
  ];
}

function missingColumns(model: Model, component: Component): string[] {
  const nulls =
    component.kind === 'bands'
      ? [
          `NULL::DOUBLE AS ${quoteIdent(columns.raw(model, component))}`,
          `NULL::INTEGER AS ${quoteIdent(columns.band(model, component))}`,
        ]
      : [`NULL::VARCHAR[] AS ${quoteIdent(columns.signals(model, component))}`];
  return [...nulls, `NULL::INTEGER AS ${quoteIdent(columns.points(model, component))}`];
}

/**
 * Returns the select-list items that compute a model's components from `user_metrics m`.
 * The total is computed in a second step ({@link modelTotalColumns}) from these columns.
 */
export function modelComponentColumns(model: Model, available: ReadonlySet<Input>): string[] {
  return model.components.flatMap((component) => {
    if (!isComponentAvailable(component, available)) return missingColumns(model, component);
    return component.kind === 'bands' ? bandColumns(model, component) : signalColumns(model, component);
  });
}

/**
 * Returns the total and tier columns. When a component is missing, the points of the
 * available components are scaled to the model's maximum and rounded to an integer, so
 * that tiers keep their meaning; when all are available the total is the plain sum.
 */
export function modelTotalColumns(model: Model, available: ReadonlySet<Input>): string[] {
  const present = model.components.filter((component) => isComponentAvailable(component, available));
  const presentMax = present.reduce((sum, component) => sum + component.max, 0);
  const sum =
    present.length === 0 ? 'NULL' : present.map((c) => quoteIdent(columns.points(model, c))).join(' + ');
  const total =
    present.length === 0
      ? 'NULL::INTEGER'
      : presentMax === model.max
        ? `(${sum})::INTEGER`
        : `round((${sum}) * ${model.max} / ${presentMax})::INTEGER`;
  const tiers = [...model.tiers]
    .reverse()
    .map((tier) => `WHEN ${total} >= ${tier.min} THEN ${quoteLiteral(tier.name)}`)
    .join(' ');
  return [
    `${total} AS ${quoteIdent(columns.total(model))}`,
    `CASE ${tiers} END AS ${quoteIdent(columns.tier(model))}`,
  ];
}
