// Model → provider resolution with one long-lived OpenAI client per provider: clients keep their HTTP connections
// alive, and building one per request would cost more than the whole latency budget of a routed call.
import OpenAI from 'openai';
import type { ProviderConfig } from './config.ts';
import type { Dispatcher } from 'undici';
import { upstreamFetch } from './upstream-fetch.ts';

export interface ModelPrice {
  /** USD per 1M prompt tokens. */
  input: number;
  /** USD per 1M completion tokens. */
  output: number;
}

export interface ResolvedModel {
  provider: string;
  baseUrl: string;
  client: OpenAI;
  /** The model name sent upstream (after the provider's modelMap). */
  upstreamModel: string;
  price: ModelPrice;
  /** POST to the provider's `<baseUrl><path>` with its credentials and headers, for forwarded requests. */
  post(path: string, body: string, signal: AbortSignal): Promise<Dispatcher.ResponseData>;
  /** Strings that must never reach a client or a log (the provider's key). */
  secrets: readonly string[];
}

const FREE: ModelPrice = { input: 0, output: 0 };

export class ProviderRegistry {
  readonly #exact = new Map<string, { cfg: ProviderConfig; client: OpenAI }>();
  readonly #catchAll: { cfg: ProviderConfig; client: OpenAI } | undefined;
  readonly #cache = new Map<string, ResolvedModel>();

  readonly #fetch = upstreamFetch();

  constructor(providers: readonly ProviderConfig[], opts: { timeoutMs: number }) {
    let catchAll: { cfg: ProviderConfig; client: OpenAI } | undefined;
    for (const cfg of providers) {
      const client = new OpenAI({
        baseURL: cfg.baseUrl,
        apiKey: cfg.apiKey,
        // Fallback down the ranking is ours to do; a retry inside the client would only delay it.
        maxRetries: 0,
        timeout: opts.timeoutMs,
        defaultHeaders: cfg.headers,
        // One keep-alive undici Agent under every provider's client (see upstream-fetch.ts).
        fetch: this.#fetch,
      });
      const entry = { cfg, client };
      for (const model of cfg.models) {
        if (model === '*') catchAll ??= entry;
        else if (!this.#exact.has(model)) this.#exact.set(model, entry);
      }
    }
    this.#catchAll = catchAll;
  }

  /** The provider serving `model`: an exact listing wins over the first "*" provider; undefined when none. */
  resolve(model: string): ResolvedModel | undefined {
    const hit = this.#cache.get(model);
    if (hit) return hit;
    const entry = this.#exact.get(model) ?? this.#catchAll;
    if (!entry) return undefined;
    const { cfg } = entry;
    const headers: Record<string, string> = {
      ...Object.fromEntries(Object.entries(cfg.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}),
    };
    const base = cfg.baseUrl.replace(/\/+$/, '');
    const resolved: ResolvedModel = {
      provider: cfg.name,
      baseUrl: cfg.baseUrl,
      client: entry.client,
      upstreamModel: cfg.modelMap[model] ?? model,
      price: cfg.prices[model] ?? FREE,
      post: (path, body, signal) => this.#fetch.post(`${base}${path}`, headers, body, signal),
      secrets: cfg.apiKey && cfg.apiKey !== 'unused' ? [cfg.apiKey] : [],
    };
    this.#cache.set(model, resolved);
    return resolved;
  }

  /** Closes the providers' idle connections (shutdown). */
  close(): Promise<void> {
    return this.#fetch.close();
  }

  /** Every explicitly listed model with its provider and price (for /v1/models-style listings). */
  list(): Array<{ model: string; provider: string; price: ModelPrice }> {
    return [...this.#exact].map(([model, { cfg }]) => ({ model, provider: cfg.name, price: cfg.prices[model] ?? FREE }));
  }
}
