// Optimistic read-modify-write over the Store: one get + one compare-and-set per attempt, retried on conflict.
// Used instead of Store.update where the caller needs the value it read (to answer from it) or must refuse a
// missing key, and to keep a turn at exactly one read and one write when nobody else writes the key.
import { Code, MomaError, type Store } from '@moma/platform';

export interface CasResult<T, R> {
  value: T;
  result: R;
  /** Store version after the write. */
  version: number;
}

/**
 * `fn` gets the current value (undefined when absent) and returns the value to write plus a result for the
 * caller, or `unchanged: true` to write nothing; it may throw to abort (e.g. NOT_FOUND). It can run more than
 * once, so it must not have side effects.
 */
export async function casUpdate<T, R>(
  store: Store,
  key: string,
  fn: (current: T | undefined) => { value: T; result: R; unchanged?: boolean },
  options: { ttlSeconds?: number; maxAttempts?: number } = {},
): Promise<CasResult<T, R>> {
  const maxAttempts = options.maxAttempts ?? 64;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await store.get<T>(key);
    const expected = current?.version ?? 0;
    const { value, result, unchanged } = fn(current?.value);
    if (unchanged) return { value, result, version: expected };
    if (await store.compareAndSet(key, value, expected, options.ttlSeconds)) {
      return { value, result, version: expected + 1 };
    }
    // Lost the race: back off a little (jittered, growing) so a burst of writers on one key spreads out.
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, attempt * 2)));
  }
  throw new MomaError(Code.ABORTED, `too many concurrent updates of ${key}; retry the request`);
}
