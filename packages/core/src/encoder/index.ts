export type { Encoder, AsyncEncoder } from './types.ts';
export { HashingEncoder, type HashingEncoderState, type HashingEncoderOptions } from './hashing.ts';
export { LookupEncoder } from './lookup.ts';
