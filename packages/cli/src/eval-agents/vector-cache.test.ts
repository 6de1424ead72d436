import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { VectorCache, vectorCacheFile, vectorKey } from './vector-cache.ts';

const dir = mkdtempSync(join(tmpdir(), 'vector-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic 4-d "encoder": letter counts, normalised. */
const fake = (t: string): Float32Array => {
  const v = Float32Array.from([t.length, (t.match(/a/g) ?? []).length, (t.match(/e/g) ?? []).length, 1]);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('vector cache', () => {
  it('vector cache - a second open reads every vector back from the file and embeds nothing', async () => {
    let calls = 0;
    const embed = async (ts: readonly string[]) => {
      calls += ts.length;
      return ts.map(fake);
    };
    const a = VectorCache.open(dir, 'fake-4', 4);
    const s1 = await a.ensure(['alpha', 'beta', 'alpha', 'gamma'], embed, { batch: 2 });
    expect(s1).toMatchObject({ texts: 3, hits: 0, embedded: 3 });
    expect(calls).toBe(3);
    const file = vectorCacheFile(dir, 'fake-4');
    expect(a.file).toBe(file);
    // header + 3 records of 32 key bytes + 4 floats
    expect(statSync(file).size).toBe(16 + 'fake-4'.length + 3 * (32 + 16));
    const b = VectorCache.open(dir, 'fake-4', 4);
    expect(b.size).toBe(3);
    const s2 = await b.ensure(['gamma', 'beta', 'delta'], embed);
    expect(s2).toMatchObject({ texts: 3, hits: 2, embedded: 1 });
    expect(calls).toBe(4);
    expect([...b.get('alpha')!]).toEqual([...fake('alpha')]);
    expect(b.table(['alpha', 'delta']).get('delta')).toEqual(fake('delta'));
    expect(() => b.table(['never embedded'])).toThrow(/ensure\(\) it first/);
    expect(vectorKey('fake-4', 'x')).not.toBe(vectorKey('fake-5', 'x'));
  });

  it('vector cache - a truncated last record is ignored; a file of another encoder is left alone', async () => {
    const d = join(dir, 'trunc');
    const a = VectorCache.open(d, 'fake-4', 4);
    await a.ensure(['one', 'two'], async (ts) => ts.map(fake));
    const file = vectorCacheFile(d, 'fake-4');
    appendFileSync(file, Buffer.alloc(20, 7));
    const b = VectorCache.open(d, 'fake-4', 4);
    expect(b.size).toBe(2);
    // same file name, other dimension: not read, not written
    const before = readFileSync(file);
    const c = VectorCache.open(d, 'fake-4', 8);
    expect(c.size).toBe(0);
    await c.ensure(['three'], async (ts) => ts.map(() => new Float32Array(8)));
    expect(readFileSync(file)).toEqual(before);
    writeFileSync(join(d, 'junk'), 'x');
    // in memory only
    const m = VectorCache.open(null, 'fake-4', 4);
    expect(m.file).toBeNull();
    expect((await m.ensure(['one'], async (ts) => ts.map(fake))).embedded).toBe(1);
  });
});
