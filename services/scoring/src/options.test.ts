import { llmTarget } from '@moma/core';
import { RoutingMode } from '@moma/proto';
import { describe, expect, it } from 'vitest';
import { toChoiceOptions, toScoreResponse } from './options.ts';

describe('scoring options', () => {
  it('options - maps proto modes and limits to the core, UNSPECIFIED as balanced', () => {
    const base = { allowedModels: [], deniedModels: [], disableAgents: false, tenant: '' };
    expect(toChoiceOptions(undefined)).toEqual({ mode: 'balanced' });
    expect(toChoiceOptions({ ...base, mode: RoutingMode.ROUTING_MODE_UNSPECIFIED })).toEqual({ mode: 'balanced' });
    expect(toChoiceOptions({ ...base, mode: RoutingMode.ROUTING_MODE_COST })).toEqual({ mode: 'cost' });
    expect(
      toChoiceOptions({ ...base, mode: RoutingMode.ROUTING_MODE_QUALITY, allowedModels: ['a'], deniedModels: ['b'], maxCostUsd: 0, minQuality: 0.5, willingnessToPay: 3 }),
    ).toEqual({ mode: 'quality', allowedModels: ['a'], deniedModels: ['b'], maxCostUsd: 0, minQuality: 0.5, willingnessToPay: 3 });
    expect(() => toChoiceOptions({ ...base, mode: RoutingMode.UNRECOGNIZED })).toThrow(/mode: unknown mode -1/);
  });

  it('options - turns a core choice into llm:<model> candidates', () => {
    const res = toScoreResponse({
      ranked: [{ model: 'm1', predictedQuality: 0.8, predictedCostUsd: 0.01, utility: 0.7, onFront: true }],
      mode: 'cost',
      reason: 'because',
      routerVersion: 'v9',
    });
    expect(res).toEqual({
      ranked: [{ target: llmTarget('m1'), predictedQuality: 0.8, predictedCostUsd: 0.01, utility: 0.7 }],
      mode: RoutingMode.ROUTING_MODE_COST,
      reason: 'because',
      routerVersion: 'v9',
    });
  });
});
