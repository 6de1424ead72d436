// Messages between the intent service and the worker thread that fits an index (index-worker.ts).
import type { BuildInput } from './index-build.ts';

export interface WireError {
  name: string;
  message: string;
  field?: string;
}

export interface WorkerInput extends Omit<BuildInput, 'staticSemantic'> {
  /** Card texts the host has no vector for: the worker embeds them with its own copy of this encoder first. */
  embed?: { encoder: string; texts: string[] };
  /** The host's static encoder's id: the worker loads its own (loadStaticEncoder) and checks it is the same. */
  staticId?: string;
}

export type ToHost =
  /** The serialised fit, and the vectors of `embed.texts` in order (for the host's card-vector cache). */
  | { type: 'fitted'; encoded: Uint8Array; embedded: Float32Array[] }
  | { type: 'failed'; error: WireError };

/** Rebuilds an Error that keeps the name (e.g. InvalidInputError), so MomaError.from maps it to the right code. */
export function fromWire(w: WireError): Error {
  const err = new Error(w.message) as Error & { field?: string };
  err.name = w.name;
  if (w.field !== undefined) err.field = w.field;
  return err;
}
