import { InvalidInputError } from '../errors.ts';
import type { Encoder } from './types.ts';

/**
 * Vectors computed beforehand by an asynchronous encoder (the full sentence encoder), served synchronously: lets a
 * synchronous fit (the agent index) use them. A text that was not embedded is an error, never a silent zero vector.
 */
export class LookupEncoder implements Encoder {
  readonly id: string;
  readonly dim: number;
  private readonly table: ReadonlyMap<string, Float32Array>;

  constructor(id: string, dim: number, table: ReadonlyMap<string, Float32Array>) {
    this.id = id;
    this.dim = dim;
    this.table = table;
  }

  encode(text: string): Float32Array {
    const v = this.table.get(text);
    if (!v) throw new InvalidInputError(`no precomputed ${this.id} vector for a text (${text.length} chars): embed it first`, 'semantic');
    return v;
  }
}
