// Translation between the wire messages (moma.v1) and the core's LLM router types.
import { capabilityName, capabilityOf, InvalidInputError, llmTarget, modeName, routingMode, type ChoiceOptions, type LlmChoice, type LlmRouter } from '@moma/core';
import { RoutingMode, type ListModelsResponse, type RouteOptions, type ScoreResponse } from '@moma/proto';

/** Model → what it can do (MOMA_MODEL_CAPABILITIES); a model not listed can do everything. */
export type Capabilities = Readonly<Record<string, readonly string[]>>;

/**
 * Proto options → core options; UNSPECIFIED means balanced, the server default (an unknown mode throws). Models
 * that lack a capability the request requires are denied; when that leaves none of `pool`, the request is refused.
 */
export function toChoiceOptions(
  options: RouteOptions | undefined,
  capabilities: Capabilities = {},
  pool: readonly string[] = [],
  unserved: readonly string[] = [],
): ChoiceOptions {
  const out: ChoiceOptions = { mode: modeName(options?.mode ?? RoutingMode.ROUTING_MODE_UNSPECIFIED) };
  // Models no configured provider serves are never chosen.
  if (unserved.length > 0) out.deniedModels = [...unserved];
  if (!options) return out;
  if (options.willingnessToPay !== undefined) out.willingnessToPay = options.willingnessToPay;
  if (options.allowedModels.length > 0) out.allowedModels = options.allowedModels;
  const lacking = pool.filter((m) => options.requires.some((c) => capabilities[m] && !capabilities[m]!.some((n) => capabilityOf(n) === c)));
  if (lacking.length > 0 && lacking.length === pool.length) {
    const needs = options.requires.map(capabilityName).join(' and ');
    throw new InvalidInputError(`no model in the pool supports ${needs} (MOMA_MODEL_CAPABILITIES)`, 'model');
  }
  const denied = [...new Set([...unserved, ...options.deniedModels, ...lacking])];
  if (denied.length > 0) out.deniedModels = denied;
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

/** The routable pool: the artifact's models that a configured provider serves, and what only one side knows. */
export interface Pool {
  routable: string[];
  /** Known to the artifact, served by no provider. */
  unserved: string[];
  /** Listed by a provider, unknown to the artifact. */
  unknown: string[];
  /** Model → the provider serving it ('' when any provider may). */
  provider: (model: string) => string;
}

export function poolOf(router: LlmRouter, served: ReadonlyMap<string, string> | 'any'): Pool {
  const ids = router.models.map((m) => m.id);
  if (served === 'any') return { routable: ids, unserved: [], unknown: [], provider: () => '' };
  return {
    routable: ids.filter((m) => served.has(m)),
    unserved: ids.filter((m) => !served.has(m)),
    unknown: [...served.keys()].filter((m) => !ids.includes(m)).sort(),
    provider: (m) => served.get(m) ?? '',
  };
}

export function toListModelsResponse(router: LlmRouter, pool: Pool = poolOf(router, 'any')): ListModelsResponse {
  return {
    models: router.models
      .filter((m) => pool.routable.includes(m.id))
      .map((m) => ({
        id: m.id,
        inputPricePerMtok: m.inputPricePerMTok,
        outputPricePerMtok: m.outputPricePerMTok,
        provider: pool.provider(m.id),
      })),
    routerVersion: router.version,
    unserved: pool.unserved,
    unknown: pool.unknown,
  };
}
