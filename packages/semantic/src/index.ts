export type { UseModel } from './use-model.ts';
export { readVocabulary, useModelDir, useTokenizer, USE_DIM, USE_ID, USE_MAX_TOKENS } from './use-vocab.ts';
export type { StaticTable } from './distill.ts';
export { loadStaticEncoder, StaticEncoder, STATIC_TABLE_FILE, writeStaticTable } from './static-encoder.ts';

/** Loads the full encoder; tfjs is imported only here, so a process that never calls this never loads it. */
export async function loadUseModel(dir?: string): Promise<import('./use-model.ts').UseModel> {
  return (await import('./use-model.ts')).loadUseModel(dir);
}
export { SemanticCache, type SemanticCacheOptions } from './semantic-cache.ts';
