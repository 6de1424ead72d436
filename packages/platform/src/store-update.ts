// Optimistic read-modify-write shared by every Store: read with version, compute, compare-and-set, and on a
// conflict retry with a short jittered backoff so concurrent writers interleave instead of colliding again.
import type { Versioned } from './contracts.ts';
import { Code, MomaError } from './errors.ts';

export interface CasStore {
  get<T>(key: string): Promise<Versioned<T> | undefined>;
  /** Returns the new version, or 0 when `expectedVersion` did not match. */
  compareAndSetVersion<T>(key: string, value: T, expectedVersion: number, ttlSeconds?: number): Promise<number>;
}

export async function updateWithRetries<T>(
  store: CasStore,
  key: string,
  fn: (current: T | undefined) => T,
  ttlSeconds: number | undefined,
  maxAttempts: number,
): Promise<Versioned<T>> {
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = await store.get<T>(key);
    const next = fn(current === undefined ? undefined : current.value);
    const version = await store.compareAndSetVersion(key, next, current?.version ?? 0, ttlSeconds);
    if (version > 0) return { value: next, version };
    if (attempt > 0) await sleep(Math.random() * Math.min(2 ** attempt, 20));
  }
  throw new MomaError(Code.ABORTED, `update of ${key} kept conflicting with other writers (${maxAttempts} attempts)`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
