// How the gateway shows things over HTTP: the decision as snake_case JSON and as `x-moma-*` headers, usage, agents,
// and errors in OpenAI's shape. One place, so the body and the headers can never disagree.
import { Code, MomaError, httpStatusFor } from '@moma/platform';
import { isAgent, modeName, targetText } from '@moma/core/rules';
import type { Agent, Decision, LimitState, ModelInfo, Target, Usage } from '@moma/proto';

export function decisionJson(d: Decision) {
  return {
    target: targetText(d.target),
    kind: isAgent(d.target) ? 'agent' : 'llm',
    mode: modeName(d.mode),
    reason: d.reason,
    ranked: d.ranked.map((c) => ({
      target: targetText(c.target),
      predicted_quality: c.predictedQuality,
      predicted_cost_usd: c.predictedCostUsd,
      utility: c.utility,
    })),
    categories: d.categories.map((c) => ({ category: c.category, score: c.score })),
    masked: d.masked.map((m) => ({ agent_id: m.agentId, reason: m.reason })),
    fsm_state: d.fsmState,
    session_id: d.sessionId,
    decision_ms: d.decisionMs,
    router_version: d.routerVersion,
  };
}

/** The decision as response headers; the reason is URI-encoded because it is free text. No session id = stateless. */
/**
 * A header value as it reads, but with '%' and whatever is not printable ASCII percent-encoded (decodeURIComponent
 * gives it back): Node refuses any other character in a header, which would turn the whole answer into a 500.
 */
export function headerText(s: string): string {
  return s.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

export function decisionHeaders(d: Decision): Record<string, string> {
  const first = d.ranked[0];
  const h: Record<string, string> = {
    'x-moma-target': headerText(targetText(d.target)),
    'x-moma-mode': modeName(d.mode),
    'x-moma-reason': encodeURIComponent(d.reason),
    'x-moma-predicted-quality': String(first?.predictedQuality ?? 0),
    'x-moma-predicted-cost-usd': String(first?.predictedCostUsd ?? 0),
    // a hand-off reads handed_off(a→b)
    'x-moma-fsm-state': headerText(d.fsmState),
    'x-moma-router-version': headerText(d.routerVersion),
    'x-moma-decision-ms': String(d.decisionMs),
  };
  if (d.sessionId !== '') h['x-moma-session-id'] = d.sessionId;
  return h;
}

/** A duration as OpenAI writes its x-ratelimit-reset-* headers: "20ms", "1.5s", "6m0s", "2h3m0s". */
export function resetText(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const total = Math.ceil(ms / 100) / 10;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = Math.round((total % 60) * 10) / 10;
  return h > 0 ? `${h}h${m}m${Math.floor(sec)}s` : m > 0 ? `${m}m${Math.floor(sec)}s` : `${sec}s`;
}

/**
 * The caller's limits as OpenAI's rate-limit headers (x-ratelimit-{limit,remaining,reset}-{requests,tokens}) plus
 * x-moma-budget-{limit,remaining}-usd and x-moma-budget-reset; where the key and its tenant both limit a kind, the
 * one with less room. No limits = no headers.
 */
export function limitHeaders(states: readonly LimitState[]): Record<string, string> {
  const h: Record<string, string> = {};
  const tightest = (kind: string) =>
    states.filter((s) => s.kind === kind).sort((a, b) => a.limit - a.used - (b.limit - b.used))[0];
  for (const kind of ['requests', 'tokens'] as const) {
    const s = tightest(kind);
    if (!s) continue;
    h[`x-ratelimit-limit-${kind}`] = String(s.limit);
    h[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, Math.floor(s.limit - s.used)));
    h[`x-ratelimit-reset-${kind}`] = resetText(Number(s.resetMs));
  }
  const b = tightest('budget');
  if (b) {
    h['x-moma-budget-limit-usd'] = String(b.limit);
    h['x-moma-budget-remaining-usd'] = Math.max(0, b.limit - b.used).toFixed(6);
    h['x-moma-budget-reset'] = resetText(Number(b.resetMs));
  }
  return h;
}

/** On a stream's final event when the session could not record the turn (the answer was already sent). */
export const notRecorded = (o: { notRecorded?: string }) =>
  o.notRecorded ? { session_recorded: false, error: { message: o.notRecorded, code: 'unavailable' } } : {};

export function usageJson(u: Usage | undefined, fallbacks: Target[]) {
  return {
    prompt_tokens: u?.promptTokens ?? 0,
    completion_tokens: u?.completionTokens ?? 0,
    cost_usd: u?.costUsd ?? 0,
    latency_ms: u?.latencyMs ?? 0,
    served_by: targetText(u?.servedBy),
    failed: (u?.failed.length ? u.failed : fallbacks).map(targetText),
  };
}

/** OpenAI's `model` field: the model that answered ("gpt-4o"; an agent shows as "agent:<id>"). */
export function servedModel(target: Target | undefined): string {
  return isAgent(target) ? targetText(target) : (target?.id ?? '');
}

export function modelsJson(models: ModelInfo[], routerVersion: string, pool: { unserved?: string[]; unknown?: string[] } = {}) {
  const unserved = pool.unserved ?? [];
  const unknown = pool.unknown ?? [];
  return {
    object: 'list',
    router_version: routerVersion,
    // What only one of the router and the providers knows, and what to do about it.
    ...(unserved.length > 0 || unknown.length > 0
      ? {
          moma: {
            ...(unserved.length > 0 ? { not_served: unserved, not_served_hint: 'known to the router, but no provider in MOMA_PROVIDERS serves them: never routed to' } : {}),
            ...(unknown.length > 0 ? { not_routable: unknown, not_routable_hint: `served, but unknown to the router: add them with "moma pool add ${unknown[0]}"` } : {}),
          },
        }
      : {}),
    data: [
      { id: 'moma/auto', object: 'model', created: 0, owned_by: 'moma' },
      ...models.map((m) => ({
        id: m.id,
        object: 'model',
        created: 0,
        owned_by: m.provider || 'moma',
        pricing: { input_per_mtok: m.inputPricePerMtok, output_per_mtok: m.outputPricePerMtok },
      })),
    ],
  };
}

export function agentJson(a: Agent) {
  return {
    id: a.id,
    name: a.card?.name ?? '',
    description: a.card?.description ?? '',
    url: a.card?.url ?? '',
    version: a.card?.version ?? '',
    skills: (a.card?.skills ?? []).map((s) => ({ id: s.id, name: s.name, description: s.description, tags: s.tags, examples: s.examples })),
    tenants: a.tenants,
    healthy: a.healthy,
    category: a.category,
    updated_at_ms: a.updatedAtMs,
  };
}

const ERROR_TYPES: Partial<Record<number, string>> = {
  400: 'invalid_request_error',
  404: 'invalid_request_error',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  429: 'rate_limit_error',
  502: 'api_error',
  503: 'service_unavailable_error',
  504: 'timeout_error',
};

export interface HttpError {
  status: number;
  body: { error: { message: string; type: string; code: string; param?: string; attempts?: unknown } };
  /** Response headers the error carries (Retry-After). */
  headers: Record<string, string>;
}

/** The one mapping from anything thrown to an HTTP status and OpenAI-style error JSON. */
export function httpError(err: unknown): HttpError {
  const fastify = fastifyError(err);
  if (fastify) return fastify;
  const e = MomaError.from(err);
  const upstream = e.details?.upstreamStatus;
  const status = typeof upstream === 'number' ? upstream : httpStatusFor(e.code);
  const field = typeof e.details?.field === 'string' ? e.details.field : undefined;
  const retryAfter = e.details?.retryAfterSeconds;
  const attempts = e.details?.attempts;
  return {
    status,
    body: {
      error: {
        message: e.code === Code.INTERNAL ? `internal error: ${e.message}` : e.message,
        type: ERROR_TYPES[status] ?? 'server_error',
        code: e.codeName.toLowerCase(),
        ...(field ? { param: field } : {}),
        ...(Array.isArray(attempts) ? { attempts } : {}),
      },
    },
    headers: {
      ...(typeof retryAfter === 'number' ? { 'retry-after': String(Math.ceil(retryAfter)) } : {}),
      // What MoMA's own refusals add (a rate limit's x-ratelimit-* and retry-after-ms, which the OpenAI SDKs read).
      ...(e.details?.headers && typeof e.details.headers === 'object' ? (e.details.headers as Record<string, string>) : {}),
    },
  };
}

// Fastify's own client errors (malformed JSON, body too large, wrong content type) carry an HTTP statusCode.
function fastifyError(err: unknown): HttpError | undefined {
  if (!(err instanceof Error) || err instanceof MomaError) return undefined;
  const { statusCode, code } = err as Error & { statusCode?: number; code?: string };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500 || typeof code !== 'string' || !code.startsWith('FST_')) {
    return undefined;
  }
  const known: Record<string, [string, string]> = {
    FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'request body is larger than the limit'],
    FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json', 'request body is not valid JSON'],
    FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'request body is empty; send a JSON object'],
    FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'send the body as application/json'],
  };
  const [c, prefix] = known[code] ?? ['invalid_request', ''];
  return {
    status: statusCode,
    headers: {},
    body: {
      error: {
        message: prefix ? `${prefix} (${err.message})` : err.message,
        type: ERROR_TYPES[statusCode] ?? 'invalid_request_error',
        code: c,
      },
    },
  };
}
