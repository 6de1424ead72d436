// Translation between the wire messages (moma.v1) and the core's LLM router types.
import { llmTarget, modeName, routingMode, type ChoiceOptions, type LlmChoice, type LlmRouter } from '@moma/core';
import { RoutingMode, type ListModelsResponse, type RouteOptions, type ScoreResponse } from '@moma/proto';

/** Proto options → core options; UNSPECIFIED means balanced, the server default (an unknown mode throws). */
export function toChoiceOptions(options: RouteOptions | undefined): ChoiceOptions {
  const out: ChoiceOptions = { mode: modeName(options?.mode ?? RoutingMode.ROUTING_MODE_UNSPECIFIED) };
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
      target: llmTarget(r.model),
      predictedQuality: r.predictedQuality,
      predictedCostUsd: r.predictedCostUsd,
      utility: r.utility,
    })),
    mode: routingMode(choice.mode),
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
