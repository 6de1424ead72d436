// Translation between the wire messages (moma.v1) and the core's LLM router types.
import type { ChoiceOptions, LlmChoice, LlmRouter, RoutingModeName } from '@moma/core';
import { MomaError } from '@moma/platform';
import { RoutingMode, type ListModelsResponse, type RouteOptions, type ScoreResponse } from '@moma/proto';

const modeNames = new Map<RoutingMode, RoutingModeName>([
  [RoutingMode.ROUTING_MODE_UNSPECIFIED, 'balanced'],
  [RoutingMode.ROUTING_MODE_QUALITY, 'quality'],
  [RoutingMode.ROUTING_MODE_BALANCED, 'balanced'],
  [RoutingMode.ROUTING_MODE_COST, 'cost'],
]);

const modeValues: Record<RoutingModeName, RoutingMode> = {
  quality: RoutingMode.ROUTING_MODE_QUALITY,
  balanced: RoutingMode.ROUTING_MODE_BALANCED,
  cost: RoutingMode.ROUTING_MODE_COST,
};

/** Proto options → core options; UNSPECIFIED means balanced, the server default. */
export function toChoiceOptions(options: RouteOptions | undefined): ChoiceOptions {
  const mode = modeNames.get(options?.mode ?? RoutingMode.ROUTING_MODE_UNSPECIFIED);
  if (!mode) throw MomaError.invalidArgument(`unknown routing mode ${String(options?.mode)}; use quality, balanced or cost`, { field: 'mode' });
  const out: ChoiceOptions = { mode };
  if (!options) return out;
  if (options.willingnessToPay !== undefined) out.willingnessToPay = options.willingnessToPay;
  if (options.allowedModels.length > 0) out.allowedModels = options.allowedModels;
  if (options.deniedModels.length > 0) out.deniedModels = options.deniedModels;
  if (options.maxCostUsd !== undefined) out.maxCostUsd = options.maxCostUsd;
  if (options.minQuality !== undefined) out.minQuality = options.minQuality;
  return out;
}

export function toScoreResponse(choice: LlmChoice): ScoreResponse {
  return {
    ranked: choice.ranked.map((r) => ({
      target: `llm:${r.model}`,
      predictedQuality: r.predictedQuality,
      predictedCostUsd: r.predictedCostUsd,
      utility: r.utility,
    })),
    mode: modeValues[choice.mode],
    reason: choice.reason,
    routerVersion: choice.routerVersion,
  };
}

export function toListModelsResponse(router: LlmRouter): ListModelsResponse {
  return {
    models: router.models.map((m) => ({
      id: m.id,
      inputPricePerMtok: m.inputPricePerMTok,
      outputPricePerMtok: m.outputPricePerMTok,
      provider: '',
    })),
    routerVersion: router.version,
  };
}
