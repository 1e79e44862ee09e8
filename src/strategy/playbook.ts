/** Default actions per behavioural segment, as the strategy document prints them. */
export interface SegmentPlay {
  readonly action: string;
  readonly successMetric: string;
  readonly onboarding: string;
  readonly inProduct: string;
  readonly email: string;
  readonly upgrade: string;
}

export const SEGMENT_PLAYS: Record<string, SegmentPlay> = {
  power: {
    action: 'Offer expansion and seat upgrades, early access to betas, and a place in the advocacy or referral program.',
    successMetric: 'Share of the segment that adds seats or upgrades within 60 days.',
    onboarding: 'Skip basics; surface advanced and admin features.',
    inProduct: 'Beta invitations and usage-limit notices.',
    email: 'Monthly product-insider note; referral asks.',
    upgrade: 'Direct upgrade prompts tied to limits they hit.',
  },
  regular: {
    action: 'Deepen use with feature-adoption campaigns aimed at the features they have not tried.',
    successMetric: 'Share of the segment that moves to power within 30 days.',
    onboarding: 'Point to the next most valuable feature.',
    inProduct: 'Contextual tips for unused features.',
    email: 'Weekly tips built on what similar users adopt.',
    upgrade: 'Feature-led prompts for higher-tier features.',
  },
  casual: {
    action: 'Show value: nudge towards activation steps and the use cases that fit their role.',
    successMetric: 'Sessions per week of the segment, and the share that becomes regular.',
    onboarding: 'Role-based checklist of the first steps.',
    inProduct: 'Highlight one quick win per visit.',
    email: 'Use-case stories twice a month.',
    upgrade: 'Hold upgrade asks until they are regular.',
  },
  at_risk: {
    action: 'Re-engage now: remind them of the value they got, ask what is missing, and have support reach out to paying accounts.',
    successMetric: 'Share of the segment active again within 14 days.',
    onboarding: 'Offer a short guided refresher.',
    inProduct: 'Show what changed since their last visit.',
    email: 'One message at once, then weekly; ask for feedback.',
    upgrade: 'No upgrade asks; remove friction first.',
  },
  dormant: {
    action: 'Run a win-back sequence, and stop messaging those who do not respond.',
    successMetric: 'Share of the segment that returns within 30 days.',
    onboarding: 'Restart onboarding from the step where they stopped.',
    inProduct: 'Welcome-back view of what is new.',
    email: 'Win-back at 30 and 90 days with an offer.',
    upgrade: 'Special return offer for former payers only.',
  },
  new: {
    action: 'Guide them to activation with a short onboarding sequence.',
    successMetric: 'Share activated within 14 days of signup.',
    onboarding: 'Daily activation guidance for the first week.',
    inProduct: 'Checklist of the activation milestones.',
    email: 'Onboarding drip, one step per day.',
    upgrade: 'None before activation.',
  },
  inactive: {
    action: 'Find out why they never started: check the signup flow and invite path, then send a first-step nudge.',
    successMetric: 'Share that has a first session within 14 days.',
    onboarding: 'One-click path to a first result.',
    inProduct: 'Not reachable in the product.',
    email: 'A single plain-text note with one first step.',
    upgrade: 'None.',
  },
};
