import { llmTarget } from '@moma/core';
import { Capability, RoutingMode } from '@moma/proto';
import { describe, expect, it } from 'vitest';
import { toChoiceOptions, toScoreResponse } from './options.ts';

describe('scoring options', () => {
  it('options - maps proto modes and limits to the core, UNSPECIFIED as balanced', () => {
    const base = { allowedModels: [], deniedModels: [], disableAgents: false, tenant: '', requires: [] };
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

  it('options - a request that needs tools, images or JSON goes only to models configured with them', () => {
    const base = { mode: RoutingMode.ROUTING_MODE_UNSPECIFIED, allowedModels: [], deniedModels: ['x'], disableAgents: false, tenant: '' };
    const caps = { small: ['json'], vision: ['tools', 'vision', 'json'] };
    const pool = ['small', 'vision', 'unlisted'];
    // unlisted models are taken to have every capability; listed ones only what they list
    expect(toChoiceOptions({ ...base, requires: [Capability.CAPABILITY_TOOLS] }, caps, pool).deniedModels).toEqual(['x', 'small']);
    expect(toChoiceOptions({ ...base, requires: [Capability.CAPABILITY_JSON_OUTPUT] }, caps, pool).deniedModels).toEqual(['x']);
    expect(toChoiceOptions({ ...base, requires: [] }, caps, pool).deniedModels).toEqual(['x']);
    expect(() => toChoiceOptions({ ...base, requires: [Capability.CAPABILITY_VISION] }, caps, ['small'])).toThrow(/no model in the pool supports vision/);
  });
});

