// @moma/cli programmatic surface (the `moma` command itself is main.ts).
export { runTrain } from './train.ts';
export { runEval, runEvalOn } from './eval.ts';
export { runDocs } from './docs.ts';
export { runKeys } from './keys.ts';
export { runProfile } from './profile/index.ts';
export { runPool } from './pool.ts';
export { runPublish } from './publish.ts';
export { runData } from './data/command.ts';
export { loadDataset, type RoutingDataset, type RoutingRow } from './data/load.ts';
export { readArtifactDir, writeArtifactDir } from './llm/artifact-files.ts';
export { evaluate, evaluateArtifact, type EvalResult, type EvalGroupResult } from './llm/evaluate.ts';
