// The shared breaker state on its own: a clock the test moves, a MemoryStore two instances share (as two executors
// share Redis), and a store that fails, which must never fail a request.
import { describe, expect, it } from 'vitest';
import { createLogger, MemoryStore, type Store } from '@moma/platform';
import { breakerKey, Breakers, type BreakerState } from './breakers.ts';

const logger = createLogger('breakers-test', { level: 'silent' });

/** The verdicts that let a call through: a closed breaker's, and the one probe a half-open breaker lets go. */
const ADMITTED = { ok: true, probe: false };
const PROBE = { ok: true, probe: true };

function setup(opts: { failures?: number; cacheMs?: number } = {}) {
  const clock = { t: 1_700_000_000_000 };
  const now = () => clock.t;
  const store = new MemoryStore({ now });
  const make = (s: Store = store) =>
    new Breakers(s, logger, { failures: opts.failures ?? 3, cooldownMs: 30_000, cacheMs: opts.cacheMs ?? 1_000, probeMs: 60_000, now });
  return { clock, store, make };
}

describe('executor breakers', () => {
  it('breakers - a closed deployment is admitted without writing anything', async () => {
    const { store, make } = setup();
    const b = make();
    expect(await b.admit('p', 'm')).toEqual(ADMITTED);
    b.success('p', 'm');
    await b.settle();
    expect(await store.list('breaker:')).toEqual([]);
  });

  it('breakers - Retry-After skips the deployment until then, for this instance and another one', async () => {
    const { clock, store, make } = setup();
    const a = make();
    a.failure('p', 'm', 2_000);
    expect(await a.admit('p', 'm')).toEqual({ ok: false, reason: 'rate_limited', until: clock.t + 2_000 });
    await a.settle();
    expect((await store.get<BreakerState>(breakerKey('p', 'm')))?.value).toMatchObject({ failures: 1, reason: 'retry_after', openUntil: clock.t + 2_000 });
    const other = make();
    expect(await other.admit('p', 'm')).toMatchObject({ ok: false, reason: 'rate_limited' });
    clock.t += 2_001;
    expect(await a.admit('p', 'm')).toEqual(ADMITTED);
    expect(await other.admit('p', 'm')).toEqual(ADMITTED);
    // Another model of the same provider was never limited.
    expect(await a.admit('p', 'other')).toEqual(ADMITTED);
  });

  it('breakers - consecutive failures open the breaker for the cool-off; a success in between starts the count again', async () => {
    const { clock, make } = setup({ failures: 3 });
    const b = make();
    b.failure('p', 'm');
    b.failure('p', 'm');
    b.success('p', 'm');
    b.failure('p', 'm');
    b.failure('p', 'm');
    expect(await b.admit('p', 'm')).toEqual(ADMITTED);
    b.failure('p', 'm');
    expect(await b.admit('p', 'm')).toEqual({ ok: false, reason: 'breaker_open', until: clock.t + 30_000 });
  });

  it('breakers - half-open lets exactly one probe through across instances; its success closes the breaker', async () => {
    const { clock, make } = setup({ failures: 1 });
    const a = make();
    const b = make();
    a.failure('p', 'm');
    await a.settle();
    clock.t += 30_001;
    const verdicts = await Promise.all([a.admit('p', 'm'), b.admit('p', 'm'), a.admit('p', 'm'), b.admit('p', 'm')]);
    expect(verdicts.filter((v) => v.ok)).toEqual([PROBE]);
    expect(verdicts.filter((v) => !v.ok).every((v) => !v.ok && v.reason === 'breaker_open')).toBe(true);
    const prober = verdicts[1]!.ok || verdicts[3]!.ok ? b : a;
    prober.success('p', 'm');
    await prober.settle();
    clock.t += 1_001; // past the other instance's cache
    expect(await a.admit('p', 'm')).toEqual(ADMITTED);
    expect(await b.admit('p', 'm')).toEqual(ADMITTED);
  });

  it('breakers - a failed probe opens the breaker for another cool-off; a released one lets the next probe go', async () => {
    const { clock, make } = setup({ failures: 1 });
    const b = make();
    b.failure('p', 'm');
    clock.t += 30_001;
    expect(await b.admit('p', 'm')).toEqual(PROBE);
    b.failure('p', 'm');
    expect(await b.admit('p', 'm')).toEqual({ ok: false, reason: 'breaker_open', until: clock.t + 30_000 });
    clock.t += 30_001;
    expect(await b.admit('p', 'm')).toEqual(PROBE);
    expect(await b.admit('p', 'm')).toMatchObject({ ok: false, reason: 'breaker_open' });
    b.release('p', 'm');
    expect(await b.admit('p', 'm')).toEqual(PROBE);
  });

  it('breakers - reads go through the local cache: one store read per cache period', async () => {
    const { clock, store, make } = setup({ cacheMs: 1_000 });
    let reads = 0;
    const counting: Store = Object.assign(Object.create(store) as Store, {
      get: <T>(key: string) => {
        reads++;
        return store.get<T>(key);
      },
    });
    const b = make(counting);
    await Promise.all(Array.from({ length: 50 }, () => b.admit('p', 'm')));
    for (let i = 0; i < 50; i++) await b.admit('p', 'm');
    expect(reads).toBe(1);
    clock.t += 1_000;
    await b.admit('p', 'm');
    expect(reads).toBe(2);
  });

  it('breakers - a failing store never fails a request: this instance goes on with its own state', async () => {
    const { store, make } = setup({ failures: 1 });
    const broken: Store = Object.assign(Object.create(store) as Store, {
      get: () => Promise.reject(new Error('redis down')),
      update: () => Promise.reject(new Error('redis down')),
      compareAndSet: () => Promise.reject(new Error('redis down')),
      delete: () => Promise.reject(new Error('redis down')),
    });
    const b = make(broken);
    expect(await b.admit('p', 'm')).toEqual(ADMITTED);
    b.failure('p', 'm');
    await b.settle();
    expect(await b.admit('p', 'm')).toMatchObject({ ok: false, reason: 'breaker_open' });
  });
});
