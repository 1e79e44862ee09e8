import { detectInputs, type InputAvailability } from '../metrics/inputs.js';
import type { Workspace } from '../workspace/index.js';
import { INPUTS, type Input } from './config.js';
import { isComponentAvailable } from './model-sql.js';
import { AT_RISK_SIGNALS } from './segment-sql.js';
import { orderedModels, type Settings } from './settings.js';
import { loadSettings } from './store.js';

export interface ComponentCoverage {
  readonly component: string;
  readonly label: string;
  readonly computable: boolean;
  /** For each missing input: what is missing and which file would fill the gap. */
  readonly gaps: string[];
}

export interface ModelCoverage {
  readonly model: string;
  readonly label: string;
  readonly components: ComponentCoverage[];
  readonly totalRule: string;
}

export interface Coverage {
  readonly inputs: InputAvailability;
  readonly models: ModelCoverage[];
  readonly atRiskSignals: ComponentCoverage[];
  readonly rfmMonetary: ComponentCoverage;
}

/** Describes how a model's total is formed when some components are missing. */
export function totalRule(model: ReturnType<typeof orderedModels>[number], available: ReadonlySet<Input>): string {
  const missing = model.components.filter((component) => !isComponentAvailable(component, available));
  if (missing.length === model.components.length) return 'no component can be computed, so the total is empty (NULL)';
  if (missing.length === 0) return `sum of all components (0-${model.max})`;
  const presentMax = model.max - missing.reduce((sum, component) => sum + component.max, 0);
  return (
    `sum of the available components (0-${presentMax}) scaled to 0-${model.max} and rounded, because ` +
    `${missing.map((component) => component.label.toLowerCase()).join(' and ')} cannot be computed`
  );
}

function gapsOf(requires: readonly Input[], inputs: InputAvailability): string[] {
  return requires.filter((input) => !inputs[input].available).map((input) => `${input}: ${inputs[input].detail}`);
}

/** Computes, from the loaded data alone, what every model, signal and RFM option can compute. */
export function coverageFor(settings: Settings, inputs: InputAvailability): Coverage {
  const available = new Set<Input>(INPUTS.filter((input) => inputs[input].available));
  const models = orderedModels(settings).map((model) => ({
    model: model.id,
    label: model.label,
    totalRule: totalRule(model, available),
    components: model.components.map((component) => {
      const gaps = gapsOf(component.requires, inputs);
      return { component: component.id, label: component.label, computable: gaps.length === 0, gaps };
    }),
  }));
  const atRiskSignals = AT_RISK_SIGNALS.map((signal) => {
    const gaps = gapsOf(signal.requires, inputs);
    return { component: signal.id, label: signal.label, computable: gaps.length === 0, gaps };
  });
  const monetaryInput: Record<Settings['rfm']['monetary'], Input> = { plan: 'plan', seats: 'seats', usage: 'events' };
  const gaps = gapsOf([monetaryInput[settings.rfm.monetary]], inputs);
  const rfmMonetary = {
    component: `rfm_m_${settings.rfm.monetary}`,
    label: `RFM monetary score from ${settings.rfm.monetary}`,
    computable: gaps.length === 0,
    gaps,
  };
  return { inputs, models, atRiskSignals, rfmMonetary };
}

/** Detects the inputs on demand (no compute_scores needed) and describes the coverage. */
export async function describeCoverage(ws: Workspace): Promise<Coverage> {
  const settings = await loadSettings(ws);
  return coverageFor(settings, await detectInputs(ws, settings));
}
