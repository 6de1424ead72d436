// A file of embedded texts (sha256 of encoder id + text → vector), so benchmarks and evaluations embed a corpus
// once: the full encoder takes minutes for CLINC150's 23,695 texts, the file seconds to read.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Embedder {
  readonly id: string;
  readonly dim: number;
  embedAll(texts: readonly string[]): Promise<Float32Array[]>;
}

const keyOf = (id: string, text: string): string => createHash('sha256').update(id).update('\0').update(text).digest('hex').slice(0, 32);

function read(file: string, dim: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (!existsSync(file)) return out;
  const buf = readFileSync(file);
  const n = buf.readUInt32LE(0);
  const d = buf.readUInt32LE(4);
  if (d !== dim) return out;
  const keys = buf.subarray(8, 8 + n * 16);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 8 + n * 16, buf.byteOffset + 8 + n * 16 + n * d * 4));
  for (let i = 0; i < n; i++) out.set(keys.subarray(i * 16, i * 16 + 16).toString('hex'), data.subarray(i * d, (i + 1) * d));
  return out;
}

function write(file: string, dim: number, table: Map<string, Float32Array>): void {
  const n = table.size;
  const buf = Buffer.alloc(8 + n * 16 + n * dim * 4);
  buf.writeUInt32LE(n, 0);
  buf.writeUInt32LE(dim, 4);
  let i = 0;
  const floats = new Float32Array(buf.buffer, buf.byteOffset + 8 + n * 16, n * dim);
  for (const [k, v] of table) {
    buf.write(k, 8 + i * 16, 'hex');
    floats.set(v, i * dim);
    i++;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, buf);
  renameSync(`${file}.tmp`, file);
}

/** Vectors of `texts` in order: from `file` where present, the rest embedded now and added to the file. */
export async function embedWithFile(model: Embedder, texts: readonly string[], file: string, log: (m: string) => void = () => {}): Promise<Float32Array[]> {
  const table = read(file, model.dim);
  const keys = texts.map((t) => keyOf(model.id, t));
  const missing = [...new Set(texts.filter((_, i) => !table.has(keys[i]!)))];
  if (missing.length > 0) {
    log(`embedding ${missing.length} texts with ${model.id} (${texts.length - missing.length} from ${file})`);
    const t0 = performance.now();
    const vecs = await model.embedAll(missing);
    missing.forEach((t, i) => table.set(keyOf(model.id, t), vecs[i]!));
    write(file, model.dim, table);
    log(`embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return keys.map((k) => table.get(k)!);
}
