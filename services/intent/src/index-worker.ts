// Worker thread that fits one AgentIndex and exits. Fitting takes seconds for ~150 agents (the softmax heads are
// trained on the cards); in a worker it never blocks the service's event loop, so the previous index keeps answering.
// With the semantic encoder the worker also embeds the card texts, with its own copy of the model: its memory (the
// model's wasm heap grows to the largest batch of card texts and never shrinks) goes away with the worker, and the
// service's own copy only ever embeds queries.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeIndex, fitIndex } from './index-build.ts';
import type { ToHost, WireError, WorkerInput } from './index-protocol.ts';

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

async function embed(encoder: string, texts: string[]): Promise<Float32Array[]> {
  const { loadUseModel, SemanticCache } = await import('@moma/semantic');
  const model = await loadUseModel();
  try {
    if (model.id !== encoder) throw new Error(`the index worker has encoder ${model.id}, the service asked for ${encoder}`);
    return await new SemanticCache(model).embedAll(texts);
  } finally {
    model.dispose();
  }
}

const input = workerData as WorkerInput;
try {
  let { semantic } = input;
  let embedded: Float32Array[] = [];
  if (input.embed && input.embed.texts.length > 0) {
    if (!semantic) throw new Error('card texts to embed but no semantic table');
    embedded = await embed(input.embed.encoder, input.embed.texts);
    semantic = { ...semantic, texts: [...semantic.texts, ...input.embed.texts], vectors: [...semantic.vectors, ...embedded] };
  }
  let staticSemantic;
  if (input.staticId) {
    const { loadStaticEncoder } = await import('@moma/semantic');
    staticSemantic = await loadStaticEncoder();
    if (staticSemantic.id !== input.staticId) throw new Error(`the index worker has static encoder ${staticSemantic.id}, the service asked for ${input.staticId}`);
  }
  const { staticId: _id, embed: _embed, ...rest } = input;
  const fitInput = { ...rest, ...(semantic ? { semantic } : {}), ...(staticSemantic ? { staticSemantic } : {}) };
  const encoded = encodeIndex(fitInput, fitIndex(fitInput));
  send({ type: 'fitted', encoded, embedded }, [encoded.buffer as ArrayBuffer, ...embedded.map((v) => v.buffer as ArrayBuffer)]);
} catch (err) {
  send({ type: 'failed', error: toWire(err) });
}
