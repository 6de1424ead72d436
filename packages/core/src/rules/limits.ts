import type { Limits } from '@moma/proto';

/** Whether any limit is set: an unset Limits, or one whose every limit is 0, is no limit. */
export const hasLimits = (l: Limits | undefined): l is Limits =>
  l !== undefined && (l.requestsPerMinute > 0 || l.tokensPerMinute > 0 || l.budgetUsd > 0);

/** Share of a budget from which requests are routed as in cost mode, when the limits do not say (cost_mode_at 0). */
const DEFAULT_COST_MODE_AT = 0.8;

/** The share of a budget from which these limits route in cost mode. */
export const costModeAt = (l: Limits): number => l.costModeAt || DEFAULT_COST_MODE_AT;
