// The service side of an index. A saved fit for the same inputs is loaded (milliseconds); otherwise the index is
// fitted, in a worker thread (default for large registries: the event loop stays free while a new index trains, and
// the worker's memory goes away with it; its fit is loaded here to serve) or inline (small registries, tests).
// With the semantic encoder, card texts are embedded where the fit runs (the worker has its own copy of the model;
// inline, the service's copy), and queries the lexical expert is unsure of are answered with the service's copy.
// A fitted index is saved under a key of its inputs, so an instance that starts with the same agents loads it
// (without embedding the card texts: they are only an input of fitting).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fitOptions, indexTexts, savedIndexKey, type AgentIndex, type AgentIndexOptions, type AgentSpec, type ClassifyResult, type Taxonomy } from '@moma/core';
import { encodeIndex, fitIndex, indexFromState, loadIndex, type BuildInput, type SemanticTable } from './index-build.ts';
import { fromWire, type ToHost, type WorkerInput } from './index-protocol.ts';

export interface ServingIndex {
  readonly size: number;
  /** Wall time of this build: loading, or embedding the card texts that needed it and fitting. */
  readonly buildMs: number;
  /** Whether the fit was loaded from the index directory instead of fitted. */
  readonly loaded: boolean;
  classify(text: string, context: Array<{ role: string; content: string }>, topK: number | undefined): Promise<ClassifyResult>;
  /** Stops serving (the index is in this thread: nothing is left to stop). */
  close(): Promise<void>;
}

export type BuildMode = 'worker' | 'inline';

/** The full encoder as the host sees it (SemanticCache from @moma/semantic). */
export interface HostEncoder {
  readonly id: string;
  readonly dim: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  embedAll(texts: readonly string[]): Promise<Float32Array[]>;
}

export interface BuildExtras {
  semantic?: HostEncoder;
  /** Vectors of card texts kept across rebuilds (only the changed cards are embedded again); pruned here. */
  cardVectors?: Map<string, Float32Array>;
  /** Where fitted indexes are saved and looked up. */
  dir?: string;
}

/** sha256 of everything a fit depends on (serving options such as the fast-path bar are not: a saved fit serves any). */
export function indexKey(agents: readonly AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions, semantic: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 2, agents: agents.map((a) => ({ id: a.id, card: a.card, category: a.category ?? null })), taxonomy: taxonomy ?? null, options: fitOptions(options), semantic: semantic ?? null }))
    .digest('hex');
}

export async function buildServingIndex(agents: AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions, mode: BuildMode, extras: BuildExtras = {}): Promise<ServingIndex> {
  const started = performance.now();
  const { semantic, dir } = extras;
  const key = indexKey(agents, taxonomy, options, semantic?.id);
  const file = dir ? join(dir, `${key}.agent-index`) : undefined;
  // the static encoder goes beside the plain options (which cross to a worker); without the full encoder it has no use
  const { staticSemantic: staticEnc, ...plain } = options;
  const staticSemantic = semantic ? staticEnc : undefined;
  const input: BuildInput = {
    agents,
    taxonomy,
    options: plain,
    key,
    ...(semantic ? { semantic: { id: semantic.id, dim: semantic.dim, texts: [], vectors: [] } } : {}),
    ...(staticSemantic ? { staticSemantic } : {}),
  };
  let saved: Uint8Array | undefined;
  if (file) {
    try {
      saved = readFileSync(file);
    } catch {
      // none saved yet
    }
  }
  // A saved fit for these very inputs needs no card vectors: they are only an input of fitting.
  const reused = saved !== undefined && savedIndexKey(saved) === key ? loadIndex(input, saved) : null;
  if (reused) return serve(reused, semantic, performance.now() - started, true);

  const texts = semantic ? indexTexts(agents, taxonomy) : [];
  const known = extras.cardVectors ?? new Map<string, Float32Array>();
  const missing = texts.filter((t) => !known.has(t));
  const table = (): SemanticTable => {
    const have = texts.filter((t) => known.has(t));
    return { id: semantic!.id, dim: semantic!.dim, texts: have, vectors: have.map((t) => known.get(t)!) };
  };
  let index: AgentIndex | null;
  let encoded: Uint8Array | undefined;
  if (mode === 'worker') {
    const { staticSemantic: _s, ...wire } = input;
    const fitted = await fitInWorker({
      ...wire,
      ...(semantic ? { semantic: table(), embed: { encoder: semantic.id, texts: missing } } : {}),
      ...(staticSemantic ? { staticId: staticSemantic.id } : {}),
    });
    fitted.embedded.forEach((v, i) => known.set(missing[i]!, v));
    encoded = fitted.encoded;
    index = loadIndex(input, encoded);
    if (!index) throw new Error('the agent index fitted in the worker does not load');
  } else {
    if (semantic && missing.length > 0) (await semantic.embedAll(missing)).forEach((v, i) => known.set(missing[i]!, v));
    const state = fitIndex({ ...input, ...(semantic ? { semantic: table() } : {}) });
    index = indexFromState(input, state);
    // serialised only to be saved
    if (file) encoded = encodeIndex(input, state);
  }
  if (semantic) {
    const keep = new Set(texts);
    for (const t of known.keys()) if (!keep.has(t)) known.delete(t);
  }
  if (file && encoded) {
    try {
      mkdirSync(dir!, { recursive: true });
      writeFileSync(`${file}.tmp`, encoded);
      renameSync(`${file}.tmp`, file);
    } catch {
      // saving is an optimisation: a read-only directory only costs a refit at the next start
    }
  }
  return serve(index, semantic, performance.now() - started, false);
}

function serve(index: AgentIndex, semantic: HostEncoder | undefined, buildMs: number, loaded: boolean): ServingIndex {
  return {
    size: index.size,
    buildMs,
    loaded,
    async classify(text, context, topK) {
      const first = index.classify(text, context, topK);
      if (!semantic || first.path !== 'needs-semantic') return first;
      const [v, ...ctx] = await semantic.embed([text, ...context.map((m) => m.content)]);
      return index.classify(text, context, topK, { text: v!, context: ctx });
    },
    close: async () => {},
  };
}

let fitWorkers = 0;

/** Fit workers started and not yet exited (each exits once its fit is sent back). */
export function liveFitWorkers(): number {
  return fitWorkers;
}

/** Fits in a worker thread that exits afterwards (with whatever memory the fit and the card embedding took). */
function fitInWorker(input: WorkerInput): Promise<{ encoded: Uint8Array; embedded: Float32Array[] }> {
  const worker = new Worker(new URL('./index-worker.ts', import.meta.url), { workerData: input });
  fitWorkers++;
  worker.once('exit', () => fitWorkers--);
  worker.unref(); // a fit must never keep a stopping process alive
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      f();
      void worker.terminate();
    };
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`index worker exited with code ${code} before its fit was done`))));
    worker.on('message', (msg: ToHost) => {
      if (msg.type === 'fitted') finish(() => resolve({ encoded: msg.encoded, embedded: msg.embedded }));
      else finish(() => reject(fromWire(msg.error)));
    });
  });
}
