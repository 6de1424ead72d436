import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Encoder } from '@moma/core';
import type { StaticTable } from './distill.ts';
import { readVocabulary, tokenIds, USE_ID, useTokenizer } from './use-vocab.ts';

// SIF weighting (Arora et al. 2017): a token's weight falls with its probability, so "the" and "?" count for little.
const SIF_A = 1e-3;
const TABLE_VERSION = 1;
// A text's first 4,096 tokens (~16,000 characters) make its static vector: bounds a huge prompt's cost in the
// scoring stage (the longest LLMRouter training prompt is 4,784 characters, so no trained feature changes).
const STATIC_MAX_TOKENS = 4096;

/**
 * The full encoder's static distillation (see distill.ts) behind the synchronous Encoder interface: tokenise with
 * the encoder's own sentencepiece model, take the SIF-weighted mean of the tokens' rows, L2-normalise.
 */
export class StaticEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly table: StaticTable;
  private readonly weights: Float32Array;
  private readonly tokenizer: ReturnType<typeof useTokenizer>;

  constructor(table: StaticTable, vocab = readVocabulary()) {
    this.table = table;
    this.dim = table.dim;
    this.id = `static(${table.source})@${TABLE_VERSION}`;
    this.tokenizer = useTokenizer(vocab);
    this.weights = Float32Array.from(vocab, ([, logp], i) => (i < 6 ? 0 : SIF_A / (SIF_A + Math.exp(logp))));
  }

  encode(text: string): Float32Array {
    const { dim, data, scales } = this.table;
    const out = new Float32Array(dim);
    for (const id of tokenIds(this.tokenizer, text, STATIC_MAX_TOKENS)) {
      const w = this.weights[id]! * scales[id]!;
      if (w === 0) continue;
      const o = id * dim;
      for (let i = 0; i < dim; i++) out[i]! += w * data[o + i]!;
    }
    let n = 0;
    for (let i = 0; i < dim; i++) n += out[i]! * out[i]!;
    if (n > 0) {
      const inv = 1 / Math.sqrt(n);
      for (let i = 0; i < dim; i++) out[i]! *= inv;
    }
    return out;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
export const STATIC_TABLE_FILE = join(here, '..', 'data', `${USE_ID}.static-v${TABLE_VERSION}.bin`);

function encodeTable(t: StaticTable): Buffer {
  const header = Buffer.from(JSON.stringify({ source: t.source, dim: t.dim, rows: t.scales.length }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([len, header, Buffer.from(t.scales.buffer, t.scales.byteOffset, t.scales.byteLength), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);
}

/** The table in `buf`, or undefined when it is not a whole table file (then it is distilled again). */
function decodeTable(buf: Buffer): StaticTable | undefined {
  if (buf.length < 4) return undefined;
  const hlen = buf.readUInt32LE(0);
  let h: { source: string; dim: number; rows: number };
  try {
    h = JSON.parse(buf.subarray(4, 4 + hlen).toString('utf8'));
  } catch {
    return undefined;
  }
  const start = 4 + hlen;
  if (!(h.rows > 0 && h.dim > 0) || buf.length !== start + h.rows * 4 + h.rows * h.dim) return undefined;
  const scales = new Float32Array(h.rows);
  Buffer.from(scales.buffer).set(buf.subarray(start, start + h.rows * 4));
  // the rows are read in place: a copy would hold the 4 MB twice until the file's buffer is collected
  const data = new Int8Array(buf.buffer, buf.byteOffset + start + h.rows * 4, h.rows * h.dim);
  return { source: h.source, dim: h.dim, data, scales };
}

/** Distils the table from the installed model (about 8 s) and writes it where loadStaticEncoder looks. */
export async function writeStaticTable(file = STATIC_TABLE_FILE): Promise<StaticTable> {
  // tfjs is loaded only to distil: a service that reads the table never pays for it
  const { loadUseModel } = await import('./use-model.ts');
  const { distillTable } = await import('./distill.ts');
  const model = await loadUseModel();
  try {
    const table = await distillTable(model, readVocabulary().length);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, encodeTable(table));
    renameSync(`${file}.tmp`, file);
    return table;
  } finally {
    model.dispose();
  }
}

const loaded = new Map<string, Promise<StaticEncoder>>();

/**
 * The static encoder, from the table `pnpm install` distilled (or distilled now, once, if it is missing or damaged).
 * One instance per file and process (it is immutable): intent and scoring in one process share its 4 MB table.
 */
export function loadStaticEncoder(file = STATIC_TABLE_FILE): Promise<StaticEncoder> {
  let p = loaded.get(file);
  if (!p) {
    p = (async () => new StaticEncoder((existsSync(file) ? decodeTable(readFileSync(file)) : undefined) ?? (await writeStaticTable(file))))();
    loaded.set(file, p);
    p.catch(() => loaded.delete(file));
  }
  return p;
}
