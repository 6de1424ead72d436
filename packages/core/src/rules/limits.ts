import type { Limits } from '@moma/proto';

/** Whether any limit is set: an unset Limits, or one whose every limit is 0, is no limit. */
export const hasLimits = (l: Limits | undefined): l is Limits =>
  l !== undefined && (l.requestsPerMinute > 0 || l.tokensPerMinute > 0 || l.budgetUsd > 0);
