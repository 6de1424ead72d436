// The behaviour every Store must have, run against MemoryStore and RedisStore.
import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import type { Store } from '../contracts.ts';
import { Code } from '../errors.ts';

export interface StoreHarness {
  /** A store on the shared backend (each call may be a separate connection), isolated from other test runs. */
  store(): Promise<Store & { ttl(key: string): Promise<number> }>;
  /** Lets `seconds` pass for TTL purposes (real sleep for Redis, a fake clock for memory). */
  advance(seconds: number): Promise<void>;
  cleanup(): Promise<void>;
}

let uniq = 0;
const key = (s: string) => `${s}:${Date.now().toString(36)}${uniq++}`;

export function storeContract(label: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(label, () => {
    let h: StoreHarness;
    beforeAll(async () => {
      h = await makeHarness();
    });
    afterAll(async () => h?.cleanup());

    it('store - put then get returns the value with increasing versions', async () => {
      const s = await h.store();
      const k = key('pv');
      expect(await s.get(k)).toBeUndefined();
      expect(await s.put(k, { turns: 1 })).toBe(1);
      expect(await s.get(k)).toEqual({ value: { turns: 1 }, version: 1 });
      expect(await s.put(k, { turns: 2 })).toBe(2);
      expect(await s.get(k)).toEqual({ value: { turns: 2 }, version: 2 });
    });

    it('store - values are copies, mutating a read value does not change the stored one', async () => {
      const s = await h.store();
      const k = key('copy');
      const v = { history: ['a'] };
      await s.put(k, v);
      v.history.push('local');
      const read = await s.get<{ history: string[] }>(k);
      read!.value.history.push('also local');
      expect((await s.get(k))?.value).toEqual({ history: ['a'] });
    });

    it('store - compareAndSet writes only on the expected version (0 = absent)', async () => {
      const s = await h.store();
      const k = key('cas');
      expect(await s.compareAndSet(k, 'first', 1)).toBe(false);
      expect(await s.compareAndSet(k, 'first', 0)).toBe(true);
      expect(await s.compareAndSet(k, 'again', 0)).toBe(false);
      expect(await s.compareAndSet(k, 'second', 1)).toBe(true);
      expect(await s.compareAndSet(k, 'stale', 1)).toBe(false);
      expect(await s.get(k)).toEqual({ value: 'second', version: 2 });
    });

    it('store - concurrent updates from several connections lose no write', async () => {
      const stores = await Promise.all([h.store(), h.store(), h.store()]);
      const k = key('counter');
      const writers = 30;
      await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          stores[i % stores.length]!.update<{ n: number; by: number[] }>(k, (cur) => ({
            n: (cur?.n ?? 0) + 1,
            by: [...(cur?.by ?? []), i],
          })),
        ),
      );
      const final = await stores[0]!.get<{ n: number; by: number[] }>(k);
      expect(final?.value.n).toBe(writers);
      expect(final?.version).toBe(writers);
      expect([...final!.value.by].sort((a, b) => a - b)).toEqual(Array.from({ length: writers }, (_, i) => i));
    });

    it('store - update passes undefined for an absent key and returns the new version', async () => {
      const s = await h.store();
      const k = key('upd');
      const seen: unknown[] = [];
      const r1 = await s.update<number>(k, (cur) => (seen.push(cur), 10));
      const r2 = await s.update<number>(k, (cur) => (seen.push(cur), (cur ?? 0) + 5));
      expect(seen).toEqual([undefined, 10]);
      expect(r1).toEqual({ value: 10, version: 1 });
      expect(r2).toEqual({ value: 15, version: 2 });
    });

    it('store - an error thrown by the update function propagates and writes nothing', async () => {
      const s = await h.store();
      const k = key('updfail');
      await s.put(k, 1);
      await expect(
        s.update(k, () => {
          throw Object.assign(new Error('bad turn'), { name: 'InvalidInputError' });
        }),
      ).rejects.toThrow('bad turn');
      expect(await s.get(k)).toEqual({ value: 1, version: 1 });
    });

    it('store - a TTL expires the key; a write without TTL removes it', async () => {
      const s = await h.store();
      const k = key('ttl');
      const keep = key('ttl-keep');
      await s.put(k, 'x', 1);
      await s.put(keep, 'y', 1);
      const t = await s.ttl(k);
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThanOrEqual(1);
      await s.put(keep, 'y2');
      expect(await s.ttl(keep)).toBe(-1);
      await h.advance(1.2);
      expect(await s.get(k)).toBeUndefined();
      expect(await s.get(keep)).toEqual({ value: 'y2', version: 2 });
      expect(await s.compareAndSet(k, 'fresh', 0, 60)).toBe(true);
      expect(await s.ttl(k)).toBeGreaterThan(50);
    });

    it('store - delete reports whether the key existed', async () => {
      const s = await h.store();
      const k = key('del');
      await s.put(k, true);
      expect(await s.delete(k)).toBe(true);
      expect(await s.delete(k)).toBe(false);
      expect(await s.get(k)).toBeUndefined();
    });

    it('store - list returns the keys under a prefix, sorted', async () => {
      const s = await h.store();
      const p = key('agents');
      await s.put(`${p}:b`, { id: 'b' });
      await s.put(`${p}:a`, { id: 'a' });
      await s.put(`${p}x:c`, { id: 'c' });
      expect(await s.list(`${p}:`)).toEqual([
        { key: `${p}:a`, value: { id: 'a' } },
        { key: `${p}:b`, value: { id: 'b' } },
      ]);
      expect(await s.list(`${key('none')}:`)).toEqual([]);
    });

    it('store - bad input is INVALID_ARGUMENT', async () => {
      const s = await h.store();
      await expect(s.put('', 1)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await expect(s.put(key('undef'), undefined)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
      await expect(s.put(key('negttl'), 1, -5)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });

    it('counters - take admits up to the limit across connections, atomically, then refuses until the window ends', async () => {
      const [a, b] = [await h.store(), await h.store()];
      const now = Date.now();
      const w = { key: key('rpm'), startMs: now - 10_000, endMs: now + 50_000, limit: 10, add: 1 };
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take([w], now)));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      const refused = results.find((r) => !r.ok)!;
      expect(refused.refused).toBe(0);
      expect(refused.states[0]).toEqual({ used: 10, resetMs: 50_000 });
      expect(await a.read([w], now)).toEqual([10]);
    });

    it('counters - a refused take adds nothing to any window; an add-0 limit refuses once used reaches it', async () => {
      const s = await h.store();
      const now = Date.now();
      const reqs = { key: key('req'), startMs: now, endMs: now + 60_000, limit: 5, add: 1 };
      const tokens = { key: key('tok'), startMs: now, endMs: now + 60_000, limit: 100, add: 0 };
      expect((await s.take([reqs, tokens], now)).ok).toBe(true);
      expect(await s.add(key('evt'), [{ ...tokens, amount: 100 }])).toBe(true);
      const r = await s.take([reqs, tokens], now);
      expect(r).toMatchObject({ ok: false, refused: 1 });
      expect(await s.read([reqs, tokens], now)).toEqual([1, 100]);
    });

    it('counters - add counts once per id; a sliding window weights the previous one by its share still inside', async () => {
      const s = await h.store();
      const now = Date.now();
      const prev = { key: key('prev'), startMs: now - 90_000, endMs: now - 30_000 };
      const cur = { key: key('cur'), startMs: now - 30_000, endMs: now + 30_000, previousKey: prev.key };
      const once = key('once');
      expect(await s.add(once, [{ ...prev, amount: 8 }])).toBe(true);
      expect(await s.add(once, [{ ...prev, amount: 8 }])).toBe(false);
      expect(await s.add(key('once'), [{ ...cur, amount: 2.5 }])).toBe(true);
      // Half of the previous window is still inside the last minute: 8 × 0.5 + 2.5.
      expect(await s.read([cur], now)).toEqual([6.5]);
      const r = await s.take([{ ...cur, limit: 7, add: 1 }], now);
      expect(r.ok).toBe(false);
      // Room for one more when the previous share is ≤ (7 - 1 - 2.5) / 8: 30 s - 60 s × 0.4375 = 3.75 s.
      expect(r.states[0]!.resetMs).toBe(3750);
      await expect(s.take([{ key: '', startMs: 0, endMs: 1, limit: 1, add: 1 }], now)).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT });
    });
  });
}
