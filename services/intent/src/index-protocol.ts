// Messages between the intent service and its index worker (index-worker.ts).
import type { ClassifyResult, QueryVectors } from '@moma/core';

export interface WireError {
  name: string;
  message: string;
  field?: string;
}

export interface ToWorker {
  id: number;
  text: string;
  context: Array<{ role: string; content: string }>;
  topK: number | undefined;
  vectors?: QueryVectors;
}

export type ToHost =
  | { type: 'ready'; size: number; buildMs: number; loaded: boolean; encoded?: Uint8Array }
  | { type: 'failed'; error: WireError }
  | { type: 'result'; id: number; result: ClassifyResult }
  | { type: 'error'; id: number; error: WireError };

/** Rebuilds an Error that keeps the name (e.g. InvalidInputError), so MomaError.from maps it to the right code. */
export function fromWire(w: WireError): Error {
  const err = new Error(w.message) as Error & { field?: string };
  err.name = w.name;
  if (w.field !== undefined) err.field = w.field;
  return err;
}
