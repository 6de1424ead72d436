// The service side of an index: either built in a worker thread (default; the event loop stays free while a new
// index trains) or inline (small registries, tests). With the semantic encoder, the host embeds the card texts
// (the model lives here, once) and answers the queries the lexical expert is unsure of with their vectors.
// A fitted index is saved under a key of its inputs, so an instance that starts with the same agents loads it
// (without embedding the card texts: they are only an input of fitting).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { indexTexts, savedIndexKey, type AgentIndexOptions, type AgentSpec, type ClassifyResult, type QueryVectors, type Taxonomy } from '@moma/core';
import { MomaError } from '@moma/platform';
import { buildIndex, type BuildInput, type SemanticTable } from './index-build.ts';
import { fromWire, type ToHost, type ToWorker } from './index-protocol.ts';

export interface ServingIndex {
  readonly size: number;
  readonly buildMs: number;
  /** Whether the fit was loaded from the index directory instead of fitted. */
  readonly loaded: boolean;
  classify(text: string, context: Array<{ role: string; content: string }>, topK: number | undefined): Promise<ClassifyResult>;
  /** Stops serving once the requests in flight are answered. */
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

/** sha256 of everything a fit depends on. */
export function indexKey(agents: readonly AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions, semantic: string | undefined): string {
  const { shift, semantic: _s, ...rest } = options;
  return createHash('sha256')
    .update(JSON.stringify({ v: 1, agents: agents.map((a) => ({ id: a.id, card: a.card, category: a.category ?? null })), taxonomy: taxonomy ?? null, options: rest, shift: shift ? 'shift' : null, semantic: semantic ?? null }))
    .digest('hex');
}

export async function buildServingIndex(agents: AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions, mode: BuildMode, extras: BuildExtras = {}): Promise<ServingIndex> {
  const { semantic, dir } = extras;
  const key = indexKey(agents, taxonomy, options, semantic?.id);
  const file = dir ? join(dir, `${key}.agent-index`) : undefined;
  let saved: Uint8Array | undefined;
  if (file) {
    try {
      saved = readFileSync(file);
    } catch {
      // none saved yet
    }
  }
  // A saved fit for these very inputs needs no card vectors: they are only an input of fitting.
  const reusable = saved !== undefined && savedIndexKey(saved) === key;
  const embedCards = async (): Promise<SemanticTable> => {
    const texts = indexTexts(agents, taxonomy);
    const known = extras.cardVectors ?? new Map<string, Float32Array>();
    const missing = texts.filter((t) => !known.has(t));
    const fresh = await semantic!.embedAll(missing);
    missing.forEach((t, i) => known.set(t, fresh[i]!));
    const keep = new Set(texts);
    for (const t of known.keys()) if (!keep.has(t)) known.delete(t);
    return { id: semantic!.id, dim: semantic!.dim, texts, vectors: texts.map((t) => known.get(t)!) };
  };
  const build = async (fromSaved: boolean) => {
    const table = semantic ? (fromSaved ? { id: semantic.id, dim: semantic.dim, texts: [], vectors: [] } : await embedCards()) : undefined;
    const input: BuildInput = { agents, taxonomy, options, key, ...(table ? { semantic: table } : {}), ...(fromSaved ? { saved: saved! } : {}) };
    return mode === 'worker' ? buildInWorker(input) : buildInline(input);
  };
  let inner;
  try {
    inner = await build(reusable);
  } catch (err) {
    // a saved file whose body does not load: fit from the cards after all
    if (!reusable) throw err;
    inner = await build(false);
  }
  if (file && inner.encoded) {
    try {
      mkdirSync(dir!, { recursive: true });
      writeFileSync(`${file}.tmp`, inner.encoded);
      renameSync(`${file}.tmp`, file);
    } catch {
      // saving is an optimisation: a read-only directory only costs a refit at the next start
    }
  }
  if (!semantic) return inner.serving;
  const { serving } = inner;
  return {
    ...serving,
    async classify(text, context, topK) {
      const first = await serving.classify(text, context, topK);
      if (first.path !== 'needs-semantic') return first;
      const [v, ...ctx] = await semantic.embed([text, ...context.map((m) => m.content)]);
      return serving.classify(text, context, topK, { text: v!, context: ctx });
    },
  };
}

type Inner = Omit<ServingIndex, 'classify'> & {
  classify(text: string, context: Array<{ role: string; content: string }>, topK: number | undefined, vectors?: QueryVectors): Promise<ClassifyResult>;
};

async function buildInline(input: BuildInput): Promise<{ serving: Inner; encoded?: Uint8Array }> {
  const started = performance.now();
  const { index, encoded, loaded } = buildIndex(input);
  return {
    serving: {
      size: index.size,
      buildMs: performance.now() - started,
      loaded,
      classify: async (text, context, topK, vectors) => index.classify(text, context, topK, vectors),
      close: async () => {},
    },
    ...(encoded ? { encoded } : {}),
  };
}

function buildInWorker(input: BuildInput): Promise<{ serving: Inner; encoded?: Uint8Array }> {
  const worker = new Worker(new URL('./index-worker.ts', import.meta.url), { workerData: input });
  worker.unref(); // an index must never keep a stopping process alive
  const pending = new Map<number, { resolve: (r: ClassifyResult) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let closing: (() => void) | null = null;
  let dead: Error | null = null;

  const settle = (id: number) => {
    pending.delete(id);
    if (closing && pending.size === 0) closing();
  };
  const failAll = (err: Error) => {
    dead = err;
    for (const [id, p] of pending) {
      p.reject(MomaError.unavailable(`agent index worker stopped: ${err.message}`, err));
      settle(id);
    }
  };

  return new Promise<{ serving: Inner; encoded?: Uint8Array }>((resolveBuild, rejectBuild) => {
    worker.on('error', (err) => {
      failAll(err);
      rejectBuild(err);
    });
    worker.on('exit', (code) => {
      const err = new Error(`index worker exited with code ${code}`);
      failAll(err);
      rejectBuild(err);
    });
    worker.on('message', (msg: ToHost) => {
      switch (msg.type) {
        case 'ready':
          resolveBuild({
            serving: {
              size: msg.size,
              buildMs: msg.buildMs,
              loaded: msg.loaded,
              classify(text, context, topK, vectors) {
                if (dead) return Promise.reject(MomaError.unavailable(`agent index worker stopped: ${dead.message}`));
                const id = nextId++;
                return new Promise<ClassifyResult>((resolve, reject) => {
                  pending.set(id, { resolve, reject });
                  worker.postMessage({ id, text, context, topK, ...(vectors ? { vectors } : {}) } satisfies ToWorker);
                });
              },
              close: () =>
                new Promise<void>((done) => {
                  const finish = () => void worker.terminate().then(() => done(), () => done());
                  if (pending.size === 0) finish();
                  else closing = finish;
                }),
            },
            ...(msg.encoded ? { encoded: msg.encoded } : {}),
          });
          return;
        case 'failed':
          void worker.terminate();
          rejectBuild(fromWire(msg.error));
          return;
        case 'result':
          pending.get(msg.id)?.resolve(msg.result);
          settle(msg.id);
          return;
        case 'error':
          pending.get(msg.id)?.reject(fromWire(msg.error));
          settle(msg.id);
          return;
      }
    });
  });
}
