import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Folder of the public data sets: $SEGMENTATION_DATASETS, else `../shared/datasets` beside
 * the checkout, else /work/shared/datasets (where a clone elsewhere on this machine finds
 * them). Undefined when none exists; suites that need the data then skip.
 */
export const DATASETS: string | undefined = [
  process.env.SEGMENTATION_DATASETS,
  path.resolve(__dirname, '../../../shared/datasets'),
  '/work/shared/datasets',
].find((candidate): candidate is string => candidate !== undefined && existsSync(candidate));

/** Why a data-set suite is skipped, for its title. */
export const DATASETS_MISSING = DATASETS ? '' : ' (skipped: ../shared/datasets not found; set SEGMENTATION_DATASETS)';

export function datasetPath(...parts: string[]): string {
  return path.join(DATASETS ?? '/nonexistent', ...parts);
}
