// Building one serving index: load a saved fit when its key matches (in the service: milliseconds), or fit (with
// the semantic vectors of the card texts, when the index is semantic). Fitting takes seconds for ~150 agents and
// runs in a worker thread for large registries (index-worker.ts), which sends the fit back serialised.
import {
  agentIndexFromState,
  decodeAgentIndex,
  encodeAgentIndex,
  fitAgentIndex,
  LookupEncoder,
  type AgentIndex,
  type AgentIndexOptions,
  type AgentIndexState,
  type AgentSpec,
  type Encoder,
  type Taxonomy,
} from '@moma/core';

/** Precomputed semantic vectors of every text the fit encodes (see indexTexts); none are needed to load a fit. */
export interface SemanticTable {
  id: string;
  dim: number;
  texts: string[];
  vectors: Float32Array[];
}

export interface BuildInput {
  agents: AgentSpec[];
  taxonomy?: Taxonomy;
  /** Plain options (they cross to the fit's worker): no encoder objects. */
  options: AgentIndexOptions;
  semantic?: SemanticTable;
  /** The static encoder (AgentIndexOptions.staticSemantic); a worker loads its own (WorkerInput.staticId). */
  staticSemantic?: Encoder;
  key: string;
}

function indexOptions(input: BuildInput): AgentIndexOptions {
  const { semantic, staticSemantic } = input;
  return semantic
    ? {
        ...input.options,
        semantic: new LookupEncoder(semantic.id, semantic.dim, new Map(semantic.texts.map((t, i) => [t, semantic.vectors[i]!]))),
        semanticAtQuery: true,
        ...(staticSemantic ? { staticSemantic } : {}),
      }
    : input.options;
}

/** The index serving a fitted state. */
export function indexFromState(input: BuildInput, state: AgentIndexState): AgentIndex {
  return agentIndexFromState(state, input.agents, indexOptions(input));
}

/** The index a saved fit serves, or null when the bytes are unreadable or were fitted for other inputs. */
export function loadIndex(input: BuildInput, saved: Uint8Array): AgentIndex | null {
  try {
    const { key, state } = decodeAgentIndex(saved);
    return key === input.key ? indexFromState(input, state) : null;
  } catch {
    return null;
  }
}

/** Fits the index (the slow part). */
export function fitIndex(input: BuildInput): AgentIndexState {
  return fitAgentIndex(input.agents, input.taxonomy, indexOptions(input));
}

/** A fitted state as bytes, under the input's key. */
export function encodeIndex(input: BuildInput, state: AgentIndexState): Uint8Array {
  return encodeAgentIndex(state, input.key);
}
