export { trainHead, rng, type TrainSet, type TrainOptions, type TrainResult } from './train-head.ts';
