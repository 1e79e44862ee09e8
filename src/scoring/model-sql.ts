import type { BandComponent, Component, Input, MilestoneComponent, Model, SignalComponent } from './config.js';
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

/** A milestone's raw value is 1 when any of its events happened before the boundary, else 0. */
function milestoneColumns(model: Model, component: MilestoneComponent): string[] {
  const events = component.events.map((event) => quoteLiteral(event)).join(', ');
  const done = `list_has_any(m.milestone_events, [${events}]::VARCHAR[])`;
  return [
    `${done}::INTEGER AS ${quoteIdent(columns.raw(model, component))}`,
    `CASE WHEN ${done} THEN ${component.max} ELSE 0 END AS ${quoteIdent(columns.points(model, component))}`,
  ];
}

function missingColumns(model: Model, component: Component): string[] {
  const nulls =
    component.kind === 'bands'
      ? [
          `NULL::DOUBLE AS ${quoteIdent(columns.raw(model, component))}`,
          `NULL::INTEGER AS ${quoteIdent(columns.band(model, component))}`,
        ]
      : component.kind === 'signals'
        ? [`NULL::VARCHAR[] AS ${quoteIdent(columns.signals(model, component))}`]
        : [`NULL::INTEGER AS ${quoteIdent(columns.raw(model, component))}`];
  return [...nulls, `NULL::INTEGER AS ${quoteIdent(columns.points(model, component))}`];
}

/**
 * Returns the select-list items that compute a model's components from `user_metrics m`.
 * The total is computed in a second step ({@link modelTotalColumns}) from these columns.
 */
export function modelComponentColumns(model: Model, available: ReadonlySet<Input>): string[] {
  return model.components.flatMap((component) => {
    if (!isComponentAvailable(component, available)) return missingColumns(model, component);
    if (component.kind === 'bands') return bandColumns(model, component);
    if (component.kind === 'signals') return signalColumns(model, component);
    return milestoneColumns(model, component);
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
