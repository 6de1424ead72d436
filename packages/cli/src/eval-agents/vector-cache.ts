import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A persistent store of sentence vectors for the evaluations: one append-only binary file per encoder under the
 * eval-agents cache folder. Each record is the sha256 of (encoder id, text) followed by the vector as float32, so a
 * second run reads every vector in seconds instead of re-embedding for minutes, and a run that is interrupted keeps
 * what it has embedded so far. Vectors depend only on the encoder id and the text, so a stored vector is never stale
 * (the id changes when the model or its tokenisation change).
 *
 * Layout: "MOMAVEC1", u32 dim, u32 id length, the id (utf-8); then records of 32 key bytes + dim × f32 (little-endian).
 * A truncated last record (a killed run) is ignored.
 */
const MAGIC = 'MOMAVEC1';

export type EmbedBatch = (texts: readonly string[]) => Promise<Float32Array[]>;

export function vectorKey(encoderId: string, text: string): string {
  return createHash('sha256').update(encoderId).update('\0').update(text).digest('hex');
}

export function vectorCacheFile(dir: string, encoderId: string): string {
  return join(dir, `vectors-${encoderId.replace(/[^A-Za-z0-9._-]+/g, '_')}.bin`);
}

export interface EnsureStats {
  /** Distinct texts asked for. */
  texts: number;
  /** Of those, read from the file (or already in memory). */
  hits: number;
  /** Embedded by the model in this call. */
  embedded: number;
  seconds: number;
}

export class VectorCache {
  readonly id: string;
  readonly dim: number;
  /** The backing file, or null for an in-memory store (--no-cache). */
  readonly file: string | null;
  private readonly byKey = new Map<string, Float32Array>();
  private readonly byText = new Map<string, Float32Array>();
  private writable: boolean;

  private constructor(id: string, dim: number, file: string | null) {
    this.id = id;
    this.dim = dim;
    this.file = file;
    this.writable = file !== null;
  }

  /** Opens (or starts) the store of this encoder in `dir`; null = keep vectors in memory only. */
  static open(dir: string | null, id: string, dim: number): VectorCache {
    const c = new VectorCache(id, dim, dir === null ? null : vectorCacheFile(dir, id));
    if (c.file) c.load();
    return c;
  }

  get size(): number {
    return this.byKey.size;
  }

  private header(): Buffer {
    const idBytes = Buffer.from(this.id, 'utf8');
    const h = Buffer.alloc(MAGIC.length + 8 + idBytes.length);
    h.write(MAGIC, 0, 'latin1');
    h.writeUInt32LE(this.dim, 8);
    h.writeUInt32LE(idBytes.length, 12);
    idBytes.copy(h, 16);
    return h;
  }

  private load(): void {
    const file = this.file!;
    try {
      if (!existsSync(file) || !statSync(file).isFile()) return;
      const buf = readFileSync(file);
      const head = this.header();
      if (buf.length < head.length || !buf.subarray(0, head.length).equals(head)) {
        // another encoder's or format's file under this name: leave it alone, work in memory
        this.writable = false;
        return;
      }
      const rec = 32 + 4 * this.dim;
      const n = Math.floor((buf.length - head.length) / rec);
      // one aligned copy of all vectors, records sliced out of it
      const all = new Float32Array(n * this.dim);
      for (let r = 0; r < n; r++) {
        const o = head.length + r * rec;
        const key = buf.toString('hex', o, o + 32);
        const v = all.subarray(r * this.dim, (r + 1) * this.dim);
        for (let i = 0; i < this.dim; i++) v[i] = buf.readFloatLE(o + 32 + 4 * i);
        this.byKey.set(key, v);
      }
    } catch {
      this.writable = false;
    }
  }

  private append(keys: readonly string[], vecs: readonly Float32Array[]): void {
    if (!this.writable || !this.file) return;
    try {
      const rec = 32 + 4 * this.dim;
      const out = Buffer.alloc(keys.length * rec);
      keys.forEach((k, r) => {
        out.write(k, r * rec, 'hex');
        const v = vecs[r]!;
        for (let i = 0; i < this.dim; i++) out.writeFloatLE(v[i]!, r * rec + 32 + 4 * i);
      });
      if (!existsSync(this.file)) {
        mkdirSync(join(this.file, '..'), { recursive: true });
        try {
          // exclusive create: a concurrent run that created it first keeps its records
          writeFileSync(this.file, this.header(), { flag: 'wx' });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
      }
      appendFileSync(this.file, out);
    } catch {
      this.writable = false;
    }
  }

  /** The stored vector of a text, if any. */
  get(text: string): Float32Array | undefined {
    const t = this.byText.get(text);
    if (t) return t;
    const v = this.byKey.get(vectorKey(this.id, text));
    if (v) this.byText.set(text, v);
    return v;
  }

  /**
   * Makes sure every text has a vector: the missing ones are embedded in batches and appended to the file as they
   * come. Returns what was read and what was embedded.
   */
  async ensure(texts: Iterable<string>, embed: EmbedBatch, opts: { batch?: number; log?: (m: string) => void; what?: string } = {}): Promise<EnsureStats> {
    const t0 = performance.now();
    const uniq = [...new Set(texts)];
    const missing = uniq.filter((t) => this.get(t) === undefined);
    const batch = opts.batch ?? 64;
    const log = opts.log ?? (() => {});
    if (missing.length) log(`${opts.what ?? 'vectors'}: ${uniq.length - missing.length} of ${uniq.length} texts from the vector cache, embedding ${missing.length}`);
    let lastLog = performance.now();
    for (let i = 0; i < missing.length; i += batch) {
      const part = missing.slice(i, i + batch);
      const vecs = await embed(part);
      if (vecs.length !== part.length || vecs.some((v) => v.length !== this.dim)) throw new Error(`the encoder returned ${vecs.length} vectors for ${part.length} texts (or not ${this.dim}-d)`);
      const keys = part.map((t) => vectorKey(this.id, t));
      keys.forEach((k, j) => {
        this.byKey.set(k, vecs[j]!);
        this.byText.set(part[j]!, vecs[j]!);
      });
      this.append(keys, vecs);
      if (performance.now() - lastLog > 15000) {
        lastLog = performance.now();
        log(`${opts.what ?? 'vectors'}: embedded ${Math.min(i + batch, missing.length)} / ${missing.length}`);
      }
    }
    return { texts: uniq.length, hits: uniq.length - missing.length, embedded: missing.length, seconds: (performance.now() - t0) / 1000 };
  }

  /** A lookup table over the given texts (all must be stored), for LookupEncoder. */
  table(texts: Iterable<string>): Map<string, Float32Array> {
    const m = new Map<string, Float32Array>();
    for (const t of texts) {
      const v = this.get(t);
      if (!v) throw new Error(`no ${this.id} vector for a text (${t.length} chars): ensure() it first`);
      m.set(t, v);
    }
    return m;
  }
}
