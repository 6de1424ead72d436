// Worker thread that builds one AgentIndex and then answers classify requests from it. Building takes seconds for
// ~150 agents (the softmax head is trained on the cards); in a worker that never blocks the service's event loop,
// so the previous index keeps answering while the next one is built.
import { parentPort, workerData } from 'node:worker_threads';
import type { AgentIndex } from '@moma/core';
import { buildIndex, type BuildInput } from './index-build.ts';
import type { ToHost, ToWorker, WireError } from './index-protocol.ts';

const port = parentPort;
if (!port) throw new Error('index-worker.ts must run as a worker thread');

const toWire = (err: unknown): WireError => {
  const e = err as { name?: unknown; message?: unknown; field?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.field === 'string' ? { field: e.field } : {}),
  };
};
const send = (msg: ToHost, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

let index: AgentIndex;
const started = performance.now();
try {
  const built = buildIndex(workerData as BuildInput);
  index = built.index;
  const encoded = built.encoded;
  send({ type: 'ready', size: index.size, buildMs: performance.now() - started, loaded: built.loaded, ...(encoded ? { encoded } : {}) }, encoded ? [encoded.buffer as ArrayBuffer] : []);
  port.on('message', (msg: ToWorker) => {
    try {
      send({ type: 'result', id: msg.id, result: index.classify(msg.text, msg.context, msg.topK, msg.vectors) });
    } catch (err) {
      send({ type: 'error', id: msg.id, error: toWire(err) });
    }
  });
} catch (err) {
  send({ type: 'failed', error: toWire(err) });
}
