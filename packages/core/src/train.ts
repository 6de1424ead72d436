// `@moma/core/train`: score-head training with tfjs. Kept out of the root entry so the services, which only
// predict, never load tfjs (about 9 MB resident per process).
export { trainHead, rng, type TrainSet, type TrainOptions, type TrainResult } from './llm/train/index.ts';
