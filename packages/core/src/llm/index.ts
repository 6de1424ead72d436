// LLM routing: question extraction, score heads, cost, Pareto choice, artifacts. Pure (no I/O).
export type {
  RoutingModeName,
  ChoiceOptions,
  RankedModel,
  LlmChoice,
  RouteInput,
  ModelPrice,
  LlmRouter,
  RouterArtifact,
  ArtifactModel,
  DerivedModel,
  SemanticSpec,
  HeadSpec,
  HeadKind,
  Objective,
  Tensor,
} from './types.ts';
export { decodeArtifact, encodeArtifact, ARTIFACT_FORMAT, ARTIFACT_FORMAT_VERSION } from './artifact.ts';
export { FusedEncoder, featureDim, routerEncoder } from './features.ts';
export { createLlmRouter, type LlmRouterOptions, predictCostUsd, poolModels, predictPool } from './router.ts';
export { choose, paretoFront, validateOptions, type Candidate, type Choice } from './choose.ts';
export { FrontTally, type FrontPoint, type FrontSummary } from './front-tally.ts';
export { extractQuestion, routingText, promptText } from './extract.ts';
export { countTokens, warmTokenizer } from './tokens.ts';
export { predictHead, predictEnsemble, sparsify, sigmoid, type SparseVec } from './heads/infer.ts';
// Training (tfjs) is a separate entry, `@moma/core/train`, so serving processes never load tfjs.
export { pairLabel, modelPairs, DEFAULT_GAPS, type GapThresholds } from './pairwise.ts';
export { diversitySample, combineSwapped, scoresFromVerdicts, verdictScore, fitLinear, crossValidatedMae, type PairVerdict } from './profile.ts';
