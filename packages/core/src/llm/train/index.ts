export { trainHead, type TrainSet, type TrainOptions, type TrainResult } from './train-head.ts';
export { rng } from '../../random.ts';
