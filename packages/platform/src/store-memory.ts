// In-process Store for the embedded mode and unit tests, with the same semantics as RedisStore: JSON values
// (callers never share object references with the store), versions from 1, TTL in seconds, CAS on version.
import type { CounterLimit, Store, TakeResult, Versioned, WindowCounter } from './contracts.ts';
import { checkWindows, ONCE_TTL_MS, previousWeight, takeResult, windowTtlMs } from './counters.ts';
import { Code, MomaError } from './errors.ts';
import { updateWithRetries } from './store-update.ts';

interface Entry {
  json: string;
  version: number;
  /** Epoch ms; undefined = no expiry. */
  expiresAt: number | undefined;
}

export interface MemoryStoreOptions {
  /** Injectable clock for TTL tests. */
  now?: () => number;
  maxUpdateAttempts?: number;
}

export class MemoryStore implements Store {
  private readonly entries: Map<string, Entry>;
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly opts: MemoryStoreOptions;
  private writes = 0;
  private closed = false;

  constructor(opts: MemoryStoreOptions = {}, entries?: Map<string, Entry>) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.maxAttempts = opts.maxUpdateAttempts ?? 100;
    this.entries = entries ?? new Map();
  }

  /** Another handle on the same data, like a second Redis connection; closing it leaves the others open. */
  connect(): MemoryStore {
    return new MemoryStore(this.opts, this.entries);
  }

  private live(key: string): Entry | undefined {
    if (this.closed) throw new MomaError(Code.UNAVAILABLE, 'store closed');
    if (key.length === 0) throw new MomaError(Code.INVALID_ARGUMENT, 'store key must not be empty');
    const e = this.entries.get(key);
    if (e && e.expiresAt !== undefined && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private write(key: string, value: unknown, version: number, ttlSeconds: number | undefined): void {
    const json = JSON.stringify(value);
    if (json === undefined) throw new MomaError(Code.INVALID_ARGUMENT, `store value for ${key} is not JSON-serialisable`);
    if (ttlSeconds !== undefined && (!Number.isFinite(ttlSeconds) || ttlSeconds < 0)) {
      throw new MomaError(Code.INVALID_ARGUMENT, `invalid TTL ${ttlSeconds}`);
    }
    const expiresAt = ttlSeconds ? this.now() + Math.ceil(ttlSeconds) * 1000 : undefined;
    this.entries.set(key, { json, version, expiresAt });
    // Expired keys nobody reads again would otherwise stay forever in a long-running embedded process.
    if (++this.writes % 1000 === 0) this.sweep();
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.entries.delete(k);
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const e = this.live(key);
    return e ? { value: JSON.parse(e.json) as T, version: e.version } : undefined;
  }

  async put<T>(key: string, value: T, ttlSeconds?: number): Promise<number> {
    const version = (this.live(key)?.version ?? 0) + 1;
    this.write(key, value, version, ttlSeconds);
    return version;
  }

  async compareAndSetVersion<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<number> {
    const current = this.live(key)?.version ?? 0;
    if (current !== expectedVersion) return 0;
    this.write(key, value, current + 1, ttlSeconds);
    return current + 1;
  }

  async compareAndSet<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<boolean> {
    return (await this.compareAndSetVersion(key, value, expectedVersion, ttlSeconds)) > 0;
  }

  update<T>(key: string, fn: (current: T | undefined) => T, ttlSeconds?: number): Promise<Versioned<T>> {
    return updateWithRetries(this, key, fn, ttlSeconds, this.maxAttempts);
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  /** Remaining time to live in seconds (-1 = no expiry, -2 = absent), like Redis TTL. */
  async ttl(key: string): Promise<number> {
    const e = this.live(key);
    if (!e) return -2;
    return e.expiresAt === undefined ? -1 : Math.ceil((e.expiresAt - this.now()) / 1000);
  }

  async list<T>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const keys = [...this.entries.keys()].filter((k) => k.startsWith(prefix)).sort();
    const out: Array<{ key: string; value: T }> = [];
    for (const key of keys) {
      const e = this.live(key);
      if (e) out.push({ key, value: JSON.parse(e.json) as T });
    }
    return out;
  }

  // Counters are entries holding a number (as Redis holds them as strings beside the hashes).
  private count(key: string): number {
    const e = this.live(key);
    return e ? Number(JSON.parse(e.json)) || 0 : 0;
  }

  private bump(key: string, amount: number, ttlMs: number): void {
    const json = JSON.stringify(this.count(key) + amount);
    this.entries.set(key, { json, version: 1, expiresAt: this.now() + ttlMs });
  }

  async take(limits: readonly CounterLimit[], nowMs: number): Promise<TakeResult> {
    checkWindows(limits, 'take');
    const counts = limits.map((l) => ({ current: this.count(l.key), previous: l.previousKey ? this.count(l.previousKey) : 0 }));
    const result = takeResult(limits, counts, nowMs);
    if (result.ok) for (const l of limits) if (l.add > 0) this.bump(l.key, l.add, windowTtlMs(l, nowMs));
    return result;
  }

  async add(onceId: string, amounts: ReadonlyArray<WindowCounter & { amount: number }>): Promise<boolean> {
    checkWindows(amounts, 'add');
    const marker = `once:${onceId}`;
    if (this.live(marker)) return false;
    this.entries.set(marker, { json: '1', version: 1, expiresAt: this.now() + ONCE_TTL_MS });
    const now = this.now();
    for (const a of amounts) this.bump(a.key, a.amount, windowTtlMs(a, now));
    return true;
  }

  async read(counters: readonly WindowCounter[], nowMs: number): Promise<number[]> {
    checkWindows(counters, 'read');
    return counters.map((w) => this.count(w.key) + (w.previousKey ? this.count(w.previousKey) * previousWeight(w, nowMs) : 0));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
