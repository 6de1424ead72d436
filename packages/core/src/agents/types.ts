import type { Encoder } from '../encoder/index.ts';
import type { AgentCardData } from './card.ts';
import type { SoftmaxHeadOptions } from './head.ts';
import type { LdaOptions } from './lda.ts';
import type { ShiftDetector } from './shift.ts';

/** A registered agent as routing sees it: its card plus who may use it and whether it is up. */
export interface AgentSpec {
  id: string;
  card: AgentCardData;
  /** Tenants allowed to use the agent; empty or containing '*' means every tenant. */
  tenants: readonly string[];
  healthy: boolean;
  /** Taxonomy category the operator put the agent in (top-down); otherwise it joins a bottom-up cluster. */
  category?: string;
}

/** One top-down category from config. */
export interface TaxonomyCategory {
  id: string;
  description: string;
  examples?: string[];
  agentIds?: string[];
}

export interface Taxonomy {
  categories: TaxonomyCategory[];
}

export interface ClassifyResult {
  /** Top-k categories, best first. */
  categories: Array<{ category: string; score: number }>;
  /**
   * Agents of those categories, best first; score in [0,1]. `turnScore`: the agent's score on the turn alone,
   * without the context turns, present when context was blended into `score` (the state machine's `turnMargin`:
   * a turn that on its own points to another agent than the holder is a new task). The agent the turn alone ranks
   * first is among the candidates even when the context-blended scores left its category out.
   */
  candidates: Array<{ agentId: string; score: number; category: string; turnScore?: number }>;
  /** Whether the best candidate clears the threshold (otherwise the query is out of scope: LLM routing). */
  inScope: boolean;
  threshold: number;
  /** Probability that the turn starts a new task (present when the index has a shift detector). */
  shift?: number;
  /**
   * With a semantic index, how this answer was reached: 'fast' = the lexical expert alone was sure enough;
   * 'fast-reject' = no agent scored even `fastReject` lexically (out of scope, the encoder not asked);
   * 'static' = the lexical expert with the static one (`staticSemantic`) was sure enough;
   * 'semantic' = both experts; 'needs-semantic' = not sure, and the caller supplies the semantic vectors
   * (`semanticAtQuery`): classify again with them.
   */
  path?: 'fast' | 'fast-reject' | 'static' | 'semantic' | 'needs-semantic';
  /**
   * With `semanticSupport`, when the semantic expert scored the query (path 'semantic'): the cosine between the
   * query's semantic vector and the nearest card text of the best candidate. Low support with a high score marks
   * a query that only resembles the agent lexically (out of scope); absent on the fast path (the lexical expert was sure).
   */
  support?: number;
}

/** Semantic vectors of a query, computed by the caller (an asynchronous encoder): the turn and each context turn. */
export interface QueryVectors {
  text: Float32Array;
  /** One per context message, in order (a zero vector for an empty one). */
  context?: readonly Float32Array[];
}

export interface AgentIndex {
  readonly size: number;
  /** The semantic encoder's id when the index has a semantic expert. */
  readonly semantic?: string;
  /** With a semantic expert: whether the joint reranker answers after the experts' product (AgentIndexOptions.jointHead). */
  readonly jointReranker?: boolean;
  classify(text: string, context?: ReadonlyArray<{ role: string; content: string }>, topK?: number, vectors?: QueryVectors): ClassifyResult;
}

/** How the agent score mixes its three signals; weights are normalised to sum to 1. */
export interface ScoreWeights {
  /** Softmax head probability (discriminative, trained on the card texts). */
  head: number;
  /** Mean of the top `knnK` cosine similarities to the agent's example texts. */
  knn: number;
  /** Cosine similarity to the agent's centroid. */
  centroid: number;
}

export interface AgentIndexOptions {
  /**
   * A dense semantic encoder whose vector is appended to the lexical one (cards, categories, queries, context).
   * Its id is part of the index's identity: an index is only loaded with the same encoder.
   */
  semantic?: Encoder;
  /** Share of the semantic part in every similarity and in the experts' product, in [0.05, 0.95] (default 0.5). */
  semanticWeight?: number;
  /**
   * The lexical expert's top probability at which a query is answered without the semantic encoder (default 0.7;
   * above 1 turns the fast path off).
   */
  fastPath?: number;
  /**
   * The best agent score of the lexical pass below which a query is out of scope without the semantic encoder
   * (path 'fast-reject'; never above the threshold). Default 0.1 when the cards have at least 10 texts per agent,
   * else 0 (off). Most out-of-scope queries resemble no agent even lexically: on CLINC150 test 73.9% of the
   * queries skip the encoder with it, 63.7% without, at about the same rejection quality; over description-only
   * cards (SGD) every agent scores low lexically, and it would reject in-scope turns (docs/agent-routing.md).
   */
  fastReject?: number;
  /**
   * With `semantic`: a cheap synchronous encoder in the same space (the full encoder's static distillation) whose own
   * expert, an LDA over its vectors of the card texts, answers with the lexical expert the queries the lexical expert
   * alone is unsure of, when their product is sure (`staticPath`), before the full encoder is asked (path 'static').
   * Its id is part of the index's identity. Fitted only over cards with at least 10 texts per agent on average.
   */
  staticSemantic?: Encoder;
  /** With `staticSemantic`: the best agent score of the lexical × static product from which it answers (default 0.8; above 1 = never). */
  staticPath?: number;
  /** Queries' semantic vectors come from the caller (classify's `vectors`), not from `semantic.encode`. */
  semanticAtQuery?: boolean;
  /**
   * Keep every card text's semantic vector (agents × texts × dim floats) so classify reports `support`, the semantic
   * similarity to the best candidate's nearest card text (an in/out-of-scope signal). Needs `semantic`.
   */
  semanticSupport?: boolean;
  /** Options of the semantic expert (LDA over the semantic vectors). */
  lda?: LdaOptions;
  /**
   * With a semantic encoder: a third head, one softmax over the fused (lexical ‖ semantic) features, reranks the
   * experts' product's top `jointCandidates` agents whenever the semantic vector is there (the lexical expert still
   * answers the fast path alone). Options of its SGD, or false for the experts' product alone. Default: on when the
   * cards have at least 10 texts per agent on average (with fewer the product does better).
   */
  jointHead?: Omit<SoftmaxHeadOptions, 'candidates'> | false;
  /** Agents the joint head reranks (default 16). */
  jointCandidates?: number;
  /** Dimension of the default hashing encoder (default 2^15). */
  dim?: number;
  /** Categories retrieved per query when classify() gets no topK (default 3). */
  topKCategories?: number;
  /** In-scope threshold on the best candidate score (default 0.35, 0.53 with a semantic encoder; calibrate with calibrateThreshold). */
  threshold?: number;
  /** Number of bottom-up clusters for agents without a taxonomy category (default ~sqrt(n)). */
  clusters?: number;
  /** Weight of earlier turns in the query vector relative to the current turn (default 0.35). */
  contextWeight?: number;
  /** How many earlier turns are used (default 2); later turns weigh more. */
  contextTurns?: number;
  /** Options of the softmax head, or false for no head (similarity only). */
  head?: SoftmaxHeadOptions | false;
  weights?: Partial<ScoreWeights>;
  /** k of the kNN signal (default 3; used only when weights.knn > 0, default 0). */
  knnK?: number;
  /** Topic-shift detector; its score goes into ClassifyResult.shift for the state machine. */
  shift?: ShiftDetector;
  /** A turn whose shift probability reaches this is classified without its context (default 0.5; >1 never). */
  shiftContextCutoff?: number;
  /** Softmax temperature applied to the head logits at query time (default 1). */
  headTemperature?: number;
}
