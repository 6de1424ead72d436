// The service side of an index: either built in a worker thread (default; the event loop stays free while a new
// index trains) or inline (small registries, tests, custom encoders that cannot cross a thread boundary).
import { Worker } from 'node:worker_threads';
import { buildAgentIndex, type AgentIndexOptions, type AgentSpec, type ClassifyResult, type Taxonomy } from '@moma/core';
import { MomaError } from '@moma/platform';
import { fromWire, type ToHost, type ToWorker } from './index-protocol.ts';

export interface ServingIndex {
  readonly size: number;
  readonly buildMs: number;
  classify(text: string, context: Array<{ role: string; content: string }>, topK: number | undefined): Promise<ClassifyResult>;
  /** Stops serving once the requests in flight are answered. */
  close(): Promise<void>;
}

export type BuildMode = 'worker' | 'inline';

export function buildServingIndex(agents: AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions, mode: BuildMode): Promise<ServingIndex> {
  return mode === 'worker' && !options.encoder ? buildInWorker(agents, taxonomy, options) : buildInline(agents, taxonomy, options);
}

async function buildInline(agents: AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions): Promise<ServingIndex> {
  const started = performance.now();
  const index = buildAgentIndex(agents, taxonomy, options);
  return {
    size: index.size,
    buildMs: performance.now() - started,
    classify: async (text, context, topK) => index.classify(text, context, topK),
    close: async () => {},
  };
}

function buildInWorker(agents: AgentSpec[], taxonomy: Taxonomy | undefined, options: AgentIndexOptions): Promise<ServingIndex> {
  const worker = new Worker(new URL('./index-worker.ts', import.meta.url), { workerData: { agents, taxonomy, options } });
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

  return new Promise<ServingIndex>((resolveBuild, rejectBuild) => {
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
            size: msg.size,
            buildMs: msg.buildMs,
            classify(text, context, topK) {
              if (dead) return Promise.reject(MomaError.unavailable(`agent index worker stopped: ${dead.message}`));
              const id = nextId++;
              return new Promise<ClassifyResult>((resolve, reject) => {
                pending.set(id, { resolve, reject });
                worker.postMessage({ id, text, context, topK } satisfies ToWorker);
              });
            },
            close: () =>
              new Promise<void>((done) => {
                const finish = () => void worker.terminate().then(() => done(), () => done());
                if (pending.size === 0) finish();
                else closing = finish;
              }),
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
