import type { Input, Model } from './config.js';
import { columns } from './model-sql.js';
import { BEHAVIORAL_SEGMENTS, dormantSubsegments, lifecycleStages, metCriteriaSql } from './segment-sql.js';
import type { Settings } from './settings.js';
import { quoteLiteral } from '../workspace/index.js';

/**
 * The `reasons` column: one line per fact that put a user where it is, built in SQL from
 * the same segment and model definitions the explanations read, so that find_users,
 * explain_user and users.csv show the same lines. `source` is the alias of a relation
 * with every column of user_metrics and user_scores.
 */
export function reasonsSql(settings: Settings, models: readonly Model[], available: ReadonlySet<Input>, source: string): string {
  const col = (name: string) => `${source}.${name}`;
  const withCriteria = (label: string, met: string) =>
    `${label} || CASE WHEN len(${met}) > 0 THEN ': ' || array_to_string(${met}, '; ') ELSE '' END`;

  const segmentLine = withCriteria(
    col('behavioral_segment'),
    metCriteriaSql(BEHAVIORAL_SEGMENTS, col('behavioral_segment'), available, source),
  );
  const signalsLine = `CASE WHEN len(${col('at_risk_signals')}) > 0
    THEN 'at-risk signals (' || len(${col('at_risk_signals')}) || ' of 4, at risk from 2): ' || array_to_string(${col('at_risk_signals')}, ', ')
    END`;
  const scoreLines = models.map(
    (model) =>
      `CASE WHEN ${col(columns.total(model))} IS NOT NULL
        THEN ${quoteLiteral(`${model.label.toLowerCase()} `)} || ${col(columns.total(model))} || ' (' || ${col(columns.tier(model))} || ')' END`,
  );
  const lifecycleLine = withCriteria(
    `'lifecycle ' || ${col('lifecycle_stage')}`,
    metCriteriaSql(lifecycleStages(settings), col('lifecycle_stage'), available, source),
  );
  const dormantLine = `CASE WHEN ${col('dormant_subsegment')} IS NOT NULL THEN ${withCriteria(
    `'dormant: ' || ${col('dormant_subsegment')}`,
    metCriteriaSql(dormantSubsegments(settings), col('dormant_subsegment'), available, source),
  )} END`;
  const recencyLine = `'days since last active: ' || coalesce(${col('days_since_last_active')}::VARCHAR, 'never active')`;

  const lines = [segmentLine, signalsLine, ...scoreLines, lifecycleLine, dormantLine, recencyLine];
  return `list_filter([${lines.join(',\n      ')}], x -> x IS NOT NULL)`;
}
