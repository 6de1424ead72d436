import type { HashingEncoderState } from '../encoder/index.ts';

export type RoutingModeName = 'quality' | 'balanced' | 'cost';

export interface ChoiceOptions {
  mode: RoutingModeName;
  /** USD the caller would pay for one full unit of quality (utility = quality − cost / wtp). Overrides the mode's preset. */
  willingnessToPay?: number;
  allowedModels?: readonly string[];
  deniedModels?: readonly string[];
  maxCostUsd?: number;
  minQuality?: number;
}

export interface RankedModel {
  model: string;
  predictedQuality: number;
  predictedCostUsd: number;
  utility: number;
  onFront: boolean;
}

export interface LlmChoice {
  ranked: RankedModel[];
  mode: RoutingModeName;
  reason: string;
  routerVersion: string;
}

export interface RouteInput {
  text: string;
  context?: ReadonlyArray<{ role: string; content: string }>;
}

export interface ModelPrice {
  id: string;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
}

export interface LlmRouter {
  readonly version: string;
  readonly models: readonly ModelPrice[];
  route(input: RouteInput, options: ChoiceOptions): LlmChoice;
}

/** A dense float tensor, row-major. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export type HeadKind = 'linear' | 'mlp' | 'moe' | 'knn';
export type Objective = 'pointwise' | 'pairwise';

/**
 * One trained score head. Tensors by kind:
 * - linear: W [dim, M], b [M]
 * - mlp: W1 [dim, H], b1 [H], W2 [H, M], b2 [M]
 * - moe: W1 [dim, H], b1 [H], Wg [H, E], bg [E], We [E, H, M], be [E, M] (gated experts over a shared trunk)
 * - knn: X [N, dim] (L2-normalised train embeddings), Y [N, M] (train scores); `k` neighbours, cosine-weighted
 * Outputs of linear/mlp/moe are logits; predicted quality is sigmoid(logit).
 */
export interface HeadSpec {
  kind: HeadKind;
  objective: Objective;
  /** Weight of this head in the ensemble average. */
  weight: number;
  k?: number;
  tensors: Record<string, Tensor>;
}

export interface ArtifactModel extends ModelPrice {
  /** Mean output tokens in the training data (used to predict a call's cost). */
  outputTokens: number;
}

/** Everything a router needs at serve time; `encodeArtifact`/`decodeArtifact` map it to manifest.json + weights.bin. */
export interface RouterArtifact {
  name: string;
  version: string;
  encoder: HashingEncoderState;
  /**
   * A semantic encoder fused with the lexical one (features = concat(lexical·√(1−weight), semantic·√weight); at
   * weight 1 the semantic vector alone). Absent: the lexical vector alone. The encoder is injected at serve time
   * and must have this id.
   */
  semantic?: SemanticSpec;
  models: ArtifactModel[];
  heads: HeadSpec[];
  /** Willingness-to-pay preset per mode (USD per unit quality), calibrated on validation data at training time. */
  modes: Record<RoutingModeName, number>;
  /** Free-form training metadata and metrics (dataset, split sizes, losses, validation figures). */
  training: Record<string, unknown>;
  /**
   * Models onboarded without retraining (`moma pool add`): each one's predicted quality is a linear function of the
   * trained models' predictions, fitted on a small anchor set, clamped to [0, 1].
   */
  derived?: DerivedModel[];
  /** Model ids taken out of the pool (`moma pool remove`): kept in the heads, never ranked. */
  removed?: string[];
}

/** The semantic encoder an artifact was trained with: its id and size, and its share of the features. */
export interface SemanticSpec {
  id: string;
  dim: number;
  /** In (0, 1]: the semantic part's share of the fused (unit-norm) vector's squared norm. */
  weight: number;
}

export interface DerivedModel extends ArtifactModel {
  id: string;
  /** One weight per trained model (artifact.models order). */
  weights: number[];
  bias: number;
  /** Anchor prompts it was fitted on, and its cross-validated mean absolute error there. */
  anchors: number;
  anchorMae: number;
}
