// Worker thread that builds one AgentIndex and then answers classify requests from it. Building takes seconds for
// ~150 agents (the softmax head is trained on the cards); in a worker that never blocks the service's event loop,
// so the previous index keeps answering while the next one is built.
import { parentPort, workerData } from 'node:worker_threads';
import { buildAgentIndex, type AgentIndex, type AgentIndexOptions, type AgentSpec, type Taxonomy } from '@moma/core';
import type { ToHost, ToWorker, WireError } from './index-protocol.ts';

const port = parentPort;
if (!port) throw new Error('index-worker.ts must run as a worker thread');

const { agents, taxonomy, options } = workerData as { agents: AgentSpec[]; taxonomy?: Taxonomy; options?: AgentIndexOptions };

const toWire = (err: unknown): WireError => {
  const e = err as { name?: unknown; message?: unknown; field?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.field === 'string' ? { field: e.field } : {}),
  };
};
const send = (msg: ToHost) => port.postMessage(msg);

let index: AgentIndex;
const started = performance.now();
try {
  index = buildAgentIndex(agents, taxonomy, options);
  send({ type: 'ready', size: index.size, buildMs: performance.now() - started });
  port.on('message', (msg: ToWorker) => {
    try {
      send({ type: 'result', id: msg.id, result: index.classify(msg.text, msg.context, msg.topK) });
    } catch (err) {
      send({ type: 'error', id: msg.id, error: toWire(err) });
    }
  });
} catch (err) {
  send({ type: 'failed', error: toWire(err) });
}
