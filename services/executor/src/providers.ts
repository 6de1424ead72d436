// Model → deployments: every provider that serves a model (its exact listings first, then the "*" providers, each in
// MOMA_PROVIDERS order), so a failing provider can be replaced by the same model elsewhere before the next-ranked
// model is tried. One long-lived OpenAI client per provider: clients keep their HTTP connections alive, and building
// one per request would cost more than the whole latency budget of a routed call.
import OpenAI from 'openai';
import { NO_KEY, type ProviderConfig } from './config.ts';
import type { Dispatcher } from 'undici';
import { upstreamFetch } from './upstream-fetch.ts';

export interface ModelPrice {
  /** USD per 1M prompt tokens. */
  input: number;
  /** USD per 1M completion tokens. */
  output: number;
}

/** One deployment of a model: a provider that serves it, under its own name for it. */
export interface ResolvedModel {
  provider: string;
  /** Our model id (the target's), for breaker keys and messages. */
  model: string;
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
  readonly #exact = new Map<string, Array<{ cfg: ProviderConfig; client: OpenAI }>>();
  readonly #catchAll: Array<{ cfg: ProviderConfig; client: OpenAI }> = [];
  readonly #cache = new Map<string, readonly ResolvedModel[]>();

  readonly #fetch = upstreamFetch();

  constructor(providers: readonly ProviderConfig[], opts: { timeoutMs: number }) {
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
      for (const model of new Set(cfg.models)) {
        if (model === '*') this.#catchAll.push(entry);
        else this.#exact.set(model, [...(this.#exact.get(model) ?? []), entry]);
      }
    }
  }

  /**
   * Every deployment of `model`, in the order to try them: the providers listing it exactly, then the "*" providers
   * (a provider listing it both ways counts once); empty when none serves it.
   */
  resolve(model: string): readonly ResolvedModel[] {
    const hit = this.#cache.get(model);
    if (hit) return hit;
    const entries = [...(this.#exact.get(model) ?? [])];
    for (const e of this.#catchAll) if (!entries.includes(e)) entries.push(e);
    const resolved = entries.map((e) => this.#deployment(model, e));
    // Model ids come from decisions; a bound keeps a stream of unknown ones from growing the cache without end.
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(model, resolved);
    return resolved;
  }

  #deployment(model: string, entry: { cfg: ProviderConfig; client: OpenAI }): ResolvedModel {
    const { cfg } = entry;
    const headers: Record<string, string> = {
      ...Object.fromEntries(Object.entries(cfg.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {}),
    };
    const base = cfg.baseUrl.replace(/\/+$/, '');
    return {
      provider: cfg.name,
      model,
      baseUrl: cfg.baseUrl,
      client: entry.client,
      upstreamModel: cfg.modelMap[model] ?? model,
      price: cfg.prices[model] ?? FREE,
      post: (path, body, signal) => this.#fetch.post(`${base}${path}`, headers, body, signal),
      secrets: cfg.apiKey && cfg.apiKey !== NO_KEY ? [cfg.apiKey] : [],
    };
  }

  /** Closes the providers' idle connections (shutdown). */
  close(): Promise<void> {
    return this.#fetch.close();
  }

  /** Every explicitly listed model with its providers and prices (for /v1/models-style listings). */
  list(): Array<{ model: string; provider: string; price: ModelPrice }> {
    return [...this.#exact].flatMap(([model, entries]) => entries.map(({ cfg }) => ({ model, provider: cfg.name, price: cfg.prices[model] ?? FREE })));
  }
}
