import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DEFAULT_SETTINGS,
  computeScores,
  configureSettings,
  describeCoverage,
  explainUsers,
  loadSettings,
  parseSettings,
} from '../src/scoring/index.js';
import type { Model } from '../src/scoring/index.js';
import type { Workspace } from '../src/workspace/index.js';
import { createUsers, insertEvents, openTestWorkspace } from './helpers/workspace.js';

function engagementWith(change: (model: Model) => Model): unknown {
  return { models: { engagement: change(structuredClone(DEFAULT_SETTINGS.models.engagement)) } };
}

describe('settings validation', () => {
  test('overlapping bands', () => {
    const patch = engagementWith((model) => {
      const frequency = model.components[0];
      if (frequency.kind === 'bands') frequency.bands[2] = { ...frequency.bands[2], min: 1 };
      return model;
    });
    expect(() => parseSettings(patch)).toThrow(
      'Invalid settings:\n- models.engagement.components.frequency.bands: the band "2-3 sessions" starts at 1, which ' +
        'overlaps the band "1 session" starting at 1. List bands in ascending order of distinct lower edges.',
    );
  });

  test('points not adding up', () => {
    const patch = engagementWith((model) => ({ ...model, max: 90 }));
    expect(() => parseSettings(patch)).toThrow(
      "Invalid settings:\n- models.engagement: the components' maximum points add up to 100, but the model states a " +
        'maximum of 90. Change the component maxima or the model maximum so that they agree.',
    );
  });

  test('milestone points not adding up', () => {
    const patch = { milestones: [{ event: 'report_created', points: 60 }, { event: 'invite_sent', points: 30 }] };
    expect(() => parseSettings(patch)).toThrow(
      "Invalid settings:\n- milestones: the points add up to 90, but the activation score's maximum is 100. " +
        'Change the points so that they add up to 100.',
    );
  });

  test('milestone without points', () => {
    expect(() => parseSettings({ milestones: [{ event: 'report_created' }] })).toThrow(
      /^Invalid settings:\n- milestones\.0\.points: /,
    );
  });

  test('seat edges not ascending', () => {
    expect(() => parseSettings({ rfm: { monetary: 'seats', seatEdges: [10, 3, 50] } })).toThrow(
      'Invalid settings:\n- rfm.seatEdges: the edges 10, 3, 50 must be strictly ascending, e.g. [3, 10, 50].',
    );
  });

  test('unknown cadence names the path', () => {
    expect(() => parseSettings({ productCadence: 'hourly' })).toThrow(/^Invalid settings:\n- productCadence: /);
  });

  test('unknown time zone', () => {
    expect(() => parseSettings({ timeZone: 'Mars/Olympus' })).toThrow(
      'Invalid settings:\n- timeZone: "Mars/Olympus" is not an IANA time zone. Use a name such as "UTC" or "America/New_York".',
    );
  });

  test('milestones shorthand builds components', () => {
    const settings = parseSettings({ milestones: [{ event: 'report_created', points: 70 }, { event: 'invite_sent', points: 30, label: 'Invited' }] });
    expect(settings.models.activation.components).toEqual([
      {
        kind: 'milestone',
        id: 'report_created',
        label: 'report_created',
        max: 70,
        window: 'all history',
        requires: ['events', 'activation_milestones'],
        events: ['report_created'],
      },
      {
        kind: 'milestone',
        id: 'invite_sent',
        label: 'Invited',
        max: 30,
        window: 'all history',
        requires: ['events', 'activation_milestones'],
        events: ['invite_sent'],
      },
    ]);
  });
});

describe('configure against events', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await openTestWorkspace();
    await createUsers(ws, [{ user: 'u1', signup: '2024-05-01 10:00:00', plan: 'pro' }]);
    await insertEvents(ws, [
      { user: 'u1', event: 'report_created', ts: '2024-05-02 10:00:00' },
      { user: 'u1', event: 'invite_sent', ts: '2024-05-02 10:05:00' },
    ]);
  });
  afterAll(() => ws.close());

  test('no changes shows settings', async () => {
    const result = await configureSettings(ws, undefined);
    expect(result).toMatchObject({ saved: false, warnings: [] });
    expect(result.settings.productCadence).toBe('weekly');
  });

  test('misspelled milestone is rejected', async () => {
    await expect(
      configureSettings(ws, { milestones: [{ event: 'report_creatd', points: 100 }] }),
    ).rejects.toThrow(
      'Invalid settings:\n- models.activation.components.report_creatd.events: the event "report_creatd" does not occur ' +
        'in the loaded events. Did you mean "report_created"?',
    );
    expect((await loadSettings(ws)).models.activation.components).toHaveLength(6);
  });

  test('misspelled event list entry is rejected', async () => {
    await expect(configureSettings(ws, { events: { ...DEFAULT_SETTINGS.events, invite: ['invite_snt'] } })).rejects.toThrow(
      'Invalid settings:\n- events.invite: the event "invite_snt" does not occur in the loaded events. Did you mean "invite_sent"?',
    );
  });

  test('valid change is saved and scored', async () => {
    const result = await configureSettings(ws, {
      productCadence: 'daily',
      milestones: [{ event: 'report_created', points: 60 }, { event: 'invite_sent', points: 40 }],
    });
    expect(result.saved).toBe(true);
    expect(result.warnings).toEqual([]);
    expect((await loadSettings(ws)).productCadence).toBe('daily');
    await computeScores(ws, { asOf: '2024-05-12' });
    const [explanation] = await explainUsers(ws, ['u1']);
    expect(explanation.scores.find((s) => s.model === 'activation')).toMatchObject({ score: 100, tier: 'fully_activated' });
    // Daily cadence: 10 quiet days >= 7 -> churned; activation 100 -> lapsed after activation.
    expect(explanation.lifecycle.stage).toBe('churned');
    expect(explanation.dormancy).toMatchObject({ segment: 'lapsed_after_activation', thresholdDays: 7 });
  });
});

describe('coverage before scoring', () => {
  test('names the missing inputs and files', async () => {
    const ws = await openTestWorkspace();
    try {
      await insertEvents(ws, [
        { user: 'u1', event: 'project_created', ts: '2024-05-02 10:00:00' },
        { user: 'u1', event: 'task_added', ts: '2024-05-02 10:05:00' },
      ]);
      const coverage = await describeCoverage(ws);
      const churn = coverage.models.find((model) => model.model === 'churn_risk');
      expect(churn?.components.filter((c) => !c.computable).map((c) => c.component)).toEqual(['support', 'billing']);
      expect(churn?.components.find((c) => c.component === 'billing')?.gaps[0]).toContain('Load one (table "billing")');
      expect(churn?.totalRule).toBe(
        'sum of the available components (0-65) scaled to 0-100 and rounded, because support signals and billing signals cannot be computed',
      );
      const expansion = coverage.models.find((model) => model.model === 'expansion');
      expect(expansion?.components.filter((c) => !c.computable).map((c) => c.component)).toEqual([
        'usage_limit',
        'team_growth',
        'feature_interest',
      ]);
      expect(coverage.rfmMonetary).toMatchObject({ computable: false });
      expect(coverage.rfmMonetary.gaps[0]).toContain('plan column');
      expect(await ws.tableExists('user_scores')).toBe(false);
    } finally {
      ws.close();
    }
  });
});
