// Shared health of each provider+model: a Retry-After window and a circuit breaker, kept in the context's Store
// (Redis in a deployment, memory when embedded) under keys only the executor writes, `breaker:<provider>:<model>`,
// so every executor instance skips a deployment another one found failing. Reads go through a short local cache
// (MOMA_BREAKER_CACHE_MS), so the hot path pays no store round trip per request; the store is written only when the
// state changes (a failure, the first success after failures, a half-open probe claim), and off the request path.
// A store that is down or slow never fails a request: this instance then goes on with what it last knew.
import type { Logger, Store } from '@moma/platform';

/** What the store holds per provider+model. Times are epoch ms, so every instance reads them the same. */
export interface BreakerState {
  /** Consecutive retryable failures or timeouts (a success deletes the state). */
  failures: number;
  /** Skip the deployment until then (0 = not skipped). */
  openUntil: number;
  /** Why it is skipped: the provider's Retry-After, or the open breaker (which goes half-open afterwards). */
  reason: 'retry_after' | 'breaker' | '';
  /** Half-open: an instance's probe is out until then; everyone else keeps skipping. */
  probeUntil: number;
}

export type SkipReason = 'rate_limited' | 'breaker_open';

export type Admission = { ok: true; probe: boolean } | { ok: false; reason: SkipReason; /** epoch ms */ until: number };

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failures: number;
  cooldownMs: number;
  /** How long a cached state is used before the store is read again (0 = every time). */
  cacheMs: number;
  /** How long a half-open probe may run before another may be sent (the longest an attempt can take). */
  probeMs: number;
  /** Longest Retry-After honoured (a provider asking for a day is not taken at its word). */
  maxRetryAfterMs?: number;
  /** A store read slower than this is abandoned for the last known state. */
  readTimeoutMs?: number;
  now?: () => number;
}

interface Cached {
  state: BreakerState | undefined;
  /** The store's version of `state` (0 = absent), for the probe's compare-and-set. */
  version: number;
  fetchedAt: number;
}

const ALLOWED: Admission = { ok: true, probe: false };
const MAX_CACHED = 10_000;

export const breakerKey = (provider: string, model: string): string => `breaker:${provider}:${model}`;

export class Breakers {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #o: Required<Omit<BreakerOptions, 'now'>>;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #reads = new Map<string, Promise<Cached>>();
  /** Per key, the last write queued by this instance (writes to one key go out in order). */
  readonly #writes = new Map<string, Promise<void>>();
  #warnedAt = -Infinity;

  constructor(store: Store, logger: Logger, opts: BreakerOptions) {
    this.#store = store;
    this.#logger = logger;
    this.#now = opts.now ?? Date.now;
    this.#o = { maxRetryAfterMs: 600_000, readTimeoutMs: 100, ...opts };
  }

  /**
   * Every provider+model with a breaker record (a success deletes it: absent = closed), as operators see it: "open"
   * (skipped), "rate_limited" (a Retry-After window), "half_open" (cooled off; the next call is the probe) or
   * "closed" (failures counted, below the threshold). Reads the shared store: for the admin view, not the request path.
   */
  async list(): Promise<Array<{ provider: string; model: string; state: string; failures: number; openUntil: number }>> {
    const now = this.#now();
    const rows = await this.#store.list<BreakerState>('breaker:');
    return rows.map(({ key, value: s }) => {
      const [provider = '', ...rest] = key.slice('breaker:'.length).split(':');
      const state = s.openUntil > now ? (s.reason === 'retry_after' ? 'rate_limited' : 'open') : s.failures >= this.#o.failures ? 'half_open' : 'closed';
      return { provider, model: rest.join(':'), state, failures: s.failures, openUntil: s.openUntil > now ? s.openUntil : 0 };
    });
  }

  /** May `provider` be called for `model` now? A half-open breaker admits one caller, as its probe. */
  async admit(provider: string, model: string): Promise<Admission> {
    const key = breakerKey(provider, model);
    const now = this.#now();
    let c = this.#cache.get(key);
    if (!c || now - c.fetchedAt >= this.#o.cacheMs) c = await this.#read(key);
    for (let tries = 0; ; tries++) {
      const verdict = this.#judge(c.state, now);
      if (verdict !== 'half-open') return verdict;
      if (tries === 2) return { ok: false, reason: 'breaker_open', until: now + this.#o.probeMs };
      const claimed: BreakerState = { ...c.state!, probeUntil: now + this.#o.probeMs };
      try {
        if (await this.#store.compareAndSet(key, claimed, c.version, this.#ttl(claimed, now))) {
          this.#remember(key, { state: claimed, version: c.version + 1, fetchedAt: now });
          return { ok: true, probe: true };
        }
      } catch (err) {
        // No shared store: this instance probes on its own say-so.
        this.#warn(err, key);
        this.#remember(key, { state: claimed, version: c.version, fetchedAt: now });
        return { ok: true, probe: true };
      }
      c = await this.#read(key); // someone else changed it: judge again on the fresh state
    }
  }

  /** A retryable failure or timeout of an attempt; `retryAfterMs` is the provider's Retry-After. */
  failure(provider: string, model: string, retryAfterMs?: number): void {
    const key = breakerKey(provider, model);
    const now = this.#now();
    const apply = (cur: BreakerState | undefined): BreakerState => {
      const failures = (cur?.failures ?? 0) + 1;
      let openUntil = cur && cur.openUntil > now ? cur.openUntil : 0;
      let reason: BreakerState['reason'] = openUntil > 0 ? (cur?.reason ?? '') : '';
      if (retryAfterMs !== undefined && retryAfterMs > 0) {
        const until = now + Math.min(retryAfterMs, this.#o.maxRetryAfterMs);
        if (until > openUntil) openUntil = until;
        if (reason === '') reason = 'retry_after';
      }
      // Also a failed half-open probe: its failure count is still at or past the threshold.
      if (failures >= this.#o.failures) {
        openUntil = Math.max(openUntil, now + this.#o.cooldownMs);
        reason = 'breaker';
      }
      return { failures, openUntil, reason, probeUntil: 0 };
    };
    const cached = this.#cache.get(key);
    const local = apply(cached?.state);
    this.#remember(key, { state: local, version: cached?.version ?? 0, fetchedAt: now });
    this.#write(key, async () => {
      const v = await this.#store.update<BreakerState>(key, apply, this.#ttl(local, now));
      this.#remember(key, { state: v.value, version: v.version, fetchedAt: this.#now() });
    });
  }

  /** The provider answered (even a refusal: it is up). Clears a state left by failures; nothing to write otherwise. */
  success(provider: string, model: string): void {
    const key = breakerKey(provider, model);
    if (this.#cache.get(key)?.state === undefined) return;
    this.#remember(key, { state: undefined, version: 0, fetchedAt: this.#now() });
    this.#write(key, async () => {
      await this.#store.delete(key);
      this.#remember(key, { state: undefined, version: 0, fetchedAt: this.#now() });
    });
  }

  /** A probe that ended without a verdict (the client left, the request's deadline passed): let another probe go. */
  release(provider: string, model: string): void {
    const key = breakerKey(provider, model);
    const cached = this.#cache.get(key);
    if (!cached?.state || cached.state.probeUntil === 0) return;
    // A state that expired meanwhile stays gone in effect (a clean one, with a short TTL).
    const free = (s: BreakerState | undefined): BreakerState => (s ? { ...s, probeUntil: 0 } : { failures: 0, openUntil: 0, reason: '', probeUntil: 0 });
    const now = this.#now();
    this.#remember(key, { state: free(cached.state), version: cached.version, fetchedAt: now });
    this.#write(key, async () => {
      const v = await this.#store.update<BreakerState>(key, free, this.#ttl(cached.state!, now));
      this.#remember(key, { state: v.value, version: v.version, fetchedAt: this.#now() });
    });
  }

  /** Waits for the writes queued so far (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#writes.values()]);
  }

  #judge(s: BreakerState | undefined, now: number): Admission | 'half-open' {
    if (!s) return ALLOWED;
    if (s.openUntil > now) return { ok: false, reason: s.reason === 'retry_after' ? 'rate_limited' : 'breaker_open', until: s.openUntil };
    if (s.reason !== 'breaker') return ALLOWED;
    if (s.probeUntil > now) return { ok: false, reason: 'breaker_open', until: s.probeUntil };
    return 'half-open';
  }

  /** Reads the store once however many requests ask at the same time; a failed or slow read keeps the last state. */
  #read(key: string): Promise<Cached> {
    let p = this.#reads.get(key);
    if (p) return p;
    p = (async () => {
      await this.#writes.get(key); // this instance's own writes first, so it never reads an older state back
      const last = this.#cache.get(key);
      let timer: NodeJS.Timeout | undefined;
      try {
        const got = await Promise.race([
          this.#store.get<BreakerState>(key),
          new Promise<'slow'>((resolve) => {
            timer = setTimeout(() => resolve('slow'), this.#o.readTimeoutMs);
            timer.unref();
          }),
        ]);
        if (got === 'slow') throw new Error(`store read slower than ${this.#o.readTimeoutMs} ms`);
        const c: Cached = { state: got?.value, version: got?.version ?? 0, fetchedAt: this.#now() };
        this.#remember(key, c);
        return c;
      } catch (err) {
        this.#warn(err, key);
        // Trust the last state for another cache period rather than asking a failing store on every request.
        const c: Cached = { state: last?.state, version: last?.version ?? 0, fetchedAt: this.#now() };
        this.#remember(key, c);
        return c;
      } finally {
        clearTimeout(timer);
        this.#reads.delete(key);
      }
    })();
    this.#reads.set(key, p);
    return p;
  }

  #write(key: string, op: () => Promise<void>): void {
    const next = (this.#writes.get(key) ?? Promise.resolve())
      .then(op)
      .catch((err: unknown) => this.#warn(err, key))
      .finally(() => {
        if (this.#writes.get(key) === next) this.#writes.delete(key);
      });
    this.#writes.set(key, next);
  }

  #remember(key: string, c: Cached): void {
    if (!this.#cache.has(key) && this.#cache.size >= MAX_CACHED) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, c);
  }

  /** Kept while it skips, then one more cool-off, so the failure count of a quiet deployment eventually resets. */
  #ttl(s: BreakerState, now: number): number {
    return Math.ceil((Math.max(0, s.openUntil - now, s.probeUntil - now) + this.#o.cooldownMs) / 1000);
  }

  #warn(err: unknown, key: string): void {
    const now = this.#now();
    if (now - this.#warnedAt < 10_000) return;
    this.#warnedAt = now;
    this.#logger.warn({ err: (err as Error)?.message ?? String(err), key }, 'breaker store unavailable; using this instance’s own state');
  }
}
