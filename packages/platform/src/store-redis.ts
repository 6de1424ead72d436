// Store over Redis. Each key is a hash {v: version, d: JSON}; writes are Lua scripts so the version check, the
// write and the TTL are one atomic step (no WATCH round trips on the hot path). Redis down → UNAVAILABLE fast:
// no offline queue, one retry, bounded connect and command timeouts.
// Type-only: ioredis (~5-9 MB RSS) is loaded by connectRedisStore, so a process without REDIS_URL never loads it.
import type { Redis } from 'ioredis';
import type { CounterLimit, Logger, Store, TakeResult, Versioned, WindowCounter } from './contracts.ts';
import { checkWindows, COUNTERS_ADD, COUNTERS_TAKE, ONCE_TTL_MS, previousWeight, takeResult, windowTtlMs } from './counters.ts';
import { Code, MomaError } from './errors.ts';
import { updateWithRetries } from './store-update.ts';

// ARGV: json, ttlSeconds (0 = no expiry). Returns the new version.
const PUT = `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 'd', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) else redis.call('PERSIST', KEYS[1]) end
return v`;

// ARGV: json, expectedVersion, ttlSeconds. Returns the new version, or 0 when the version did not match.
const CAS = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if cur ~= tonumber(ARGV[2]) then return 0 end
local v = cur + 1
redis.call('HSET', KEYS[1], 'v', v, 'd', ARGV[1])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) else redis.call('PERSIST', KEYS[1]) end
return v`;

interface ScriptedRedis extends Redis {
  momaPut(key: string, json: string, ttl: number): Promise<number>;
  momaCas(key: string, json: string, expected: number, ttl: number): Promise<number>;
  momaTake(numKeys: number, ...args: Array<string | number>): Promise<Array<string | number>>;
  momaAdd(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

export interface RedisStoreOptions {
  /** Prepended to every key (isolates deployments and test runs sharing one Redis). Default "moma:". */
  keyPrefix?: string;
  logger?: Logger;
  /** Attempts for `update` before giving up with ABORTED. */
  maxUpdateAttempts?: number;
}

export interface ConnectRedisStoreOptions extends RedisStoreOptions {
  url: string;
  connectTimeoutMs?: number;
  /** A command that gets no answer within this time fails (UNAVAILABLE) instead of hanging. */
  commandTimeoutMs?: number;
}

/** The URL without its password, for error messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Connects to Redis; fails with UNAVAILABLE (naming the URL) when it cannot be reached within the timeout. */
export async function connectRedisStore(opts: ConnectRedisStoreOptions): Promise<RedisStore> {
  const connectTimeout = opts.connectTimeoutMs ?? 2000;
  const { Redis } = await import('ioredis');
  const redis = new Redis(opts.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout,
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let reported = false;
  redis.on('error', (err: Error) => {
    // ioredis emits on every reconnect attempt; one line per outage is enough.
    if (!reported) opts.logger?.warn({ err: err.message }, 'Redis connection error');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) opts.logger?.info({}, 'Redis reconnected');
    reported = false;
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new MomaError(Code.UNAVAILABLE, `cannot connect to Redis at ${redactUrl(opts.url)} (check REDIS_URL): ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new RedisStore(redis, opts);
}

export class RedisStore implements Store {
  readonly redis: Redis;
  private readonly r: ScriptedRedis;
  private readonly prefix: string;
  private readonly maxAttempts: number;

  constructor(redis: Redis, opts: RedisStoreOptions = {}) {
    this.redis = redis;
    this.prefix = opts.keyPrefix ?? 'moma:';
    this.maxAttempts = opts.maxUpdateAttempts ?? 100;
    redis.defineCommand('momaPut', { numberOfKeys: 1, lua: PUT });
    redis.defineCommand('momaCas', { numberOfKeys: 1, lua: CAS });
    redis.defineCommand('momaTake', { lua: COUNTERS_TAKE });
    redis.defineCommand('momaAdd', { lua: COUNTERS_ADD });
    this.r = redis as ScriptedRedis;
  }

  /** Connection ready (for health probes). */
  isHealthy(): boolean {
    return this.redis.status === 'ready';
  }

  private k(key: string): string {
    if (key.length === 0) throw new MomaError(Code.INVALID_ARGUMENT, 'store key must not be empty');
    return this.prefix + key;
  }

  private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof MomaError) throw err;
      const e = MomaError.from(err);
      throw new MomaError(e.code, `store ${op} ${key}: ${e.message}`, { cause: err });
    }
  }

  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    const full = this.k(key);
    const [v, d] = await this.call('get', key, () => this.redis.hmget(full, 'v', 'd'));
    if (v == null || d == null) return undefined;
    return { value: parse<T>(d, key), version: Number(v) };
  }

  async put<T>(key: string, value: T, ttlSeconds?: number): Promise<number> {
    const full = this.k(key);
    const json = stringify(value, key);
    return this.call('put', key, () => this.r.momaPut(full, json, ttl(ttlSeconds)));
  }

  /** CAS that returns the new version (0 = conflict). */
  async compareAndSetVersion<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<number> {
    const full = this.k(key);
    const json = stringify(value, key);
    return this.call('compareAndSet', key, () => this.r.momaCas(full, json, expectedVersion, ttl(ttlSeconds)));
  }

  async compareAndSet<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<boolean> {
    return (await this.compareAndSetVersion(key, value, expectedVersion, ttlSeconds)) > 0;
  }

  update<T>(key: string, fn: (current: T | undefined) => T, ttlSeconds?: number): Promise<Versioned<T>> {
    return updateWithRetries(this, key, fn, ttlSeconds, this.maxAttempts);
  }

  async delete(key: string): Promise<boolean> {
    const full = this.k(key);
    return (await this.call('delete', key, () => this.redis.del(full))) > 0;
  }

  /** Remaining time to live in seconds (-1 = no expiry, -2 = absent). For tests and diagnostics. */
  async ttl(key: string): Promise<number> {
    const full = this.k(key);
    return this.call('ttl', key, () => this.redis.ttl(full));
  }

  async list<T>(prefix: string): Promise<Array<{ key: string; value: T }>> {
    const pattern = `${escapeGlob(this.prefix + prefix)}*`;
    return this.call('list', prefix, async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length === 0) return [];
      keys.sort();
      const pipe = this.redis.pipeline();
      for (const k of keys) pipe.hget(k, 'd');
      const results = (await pipe.exec()) ?? [];
      const out: Array<{ key: string; value: T }> = [];
      results.forEach(([err, d], i) => {
        const key = keys[i]!.slice(this.prefix.length);
        if (!err && typeof d === 'string') out.push({ key, value: parse<T>(d, key) });
      });
      return out;
    });
  }

  async take(limits: readonly CounterLimit[], nowMs: number): Promise<TakeResult> {
    checkWindows(limits, 'take');
    if (limits.length === 0) return { ok: true, states: [], refused: -1 };
    const keys = limits.flatMap((l) => [this.k(l.key), this.k(l.previousKey ?? l.key)]);
    const argv = limits.flatMap((l) => [l.limit, l.add, l.startMs, l.endMs, l.previousKey ? '1' : '0', windowTtlMs(l, nowMs)]);
    const out = await this.call('take', limits[0]!.key, () => this.r.momaTake(keys.length, ...keys, nowMs, ...argv));
    const counts = limits.map((_, i) => ({ current: Number(out[2 * i]), previous: Number(out[2 * i + 1]) }));
    return takeResult(limits, counts, nowMs);
  }

  async add(onceId: string, amounts: ReadonlyArray<WindowCounter & { amount: number }>): Promise<boolean> {
    checkWindows(amounts, 'add');
    const now = Date.now();
    const keys = [this.k(`once:${onceId}`), ...amounts.map((a) => this.k(a.key))];
    const argv = [ONCE_TTL_MS, ...amounts.flatMap((a) => [String(a.amount), windowTtlMs(a, now)])];
    return (await this.call('add', onceId, () => this.r.momaAdd(keys.length, ...keys, ...argv))) === 1;
  }

  async read(counters: readonly WindowCounter[], nowMs: number): Promise<number[]> {
    checkWindows(counters, 'read');
    if (counters.length === 0) return [];
    const keys = counters.flatMap((w) => [this.k(w.key), this.k(w.previousKey ?? w.key)]);
    const values = await this.call('read', counters[0]!.key, () => this.redis.mget(...keys));
    return counters.map((w, i) => Number(values[2 * i] ?? 0) + (w.previousKey ? Number(values[2 * i + 1] ?? 0) * previousWeight(w, nowMs) : 0));
  }

  async close(): Promise<void> {
    if (this.redis.status === 'end') return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

function ttl(ttlSeconds: number | undefined): number {
  if (ttlSeconds === undefined) return 0;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) throw new MomaError(Code.INVALID_ARGUMENT, `invalid TTL ${ttlSeconds}`);
  return Math.ceil(ttlSeconds);
}

function stringify(value: unknown, key: string): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new MomaError(Code.INVALID_ARGUMENT, `store value for ${key} is not JSON-serialisable`);
  return json;
}

function parse<T>(json: string, key: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (err) {
    throw new MomaError(Code.INTERNAL, `stored value for ${key} is not valid JSON`, { cause: err });
  }
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
