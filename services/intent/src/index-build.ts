// Building one serving index, the same in the service and in its worker thread: load a saved fit when its key
// matches, otherwise fit (with the semantic vectors the host computed, when the index is semantic) and serialise.
import {
  agentIndexFromState,
  decodeAgentIndex,
  encodeAgentIndex,
  fitAgentIndex,
  LookupEncoder,
  type AgentIndex,
  type AgentIndexOptions,
  type AgentSpec,
  type Taxonomy,
} from '@moma/core';

/** Precomputed semantic vectors of every text the fit encodes (see indexTexts). */
export interface SemanticTable {
  id: string;
  dim: number;
  texts: string[];
  vectors: Float32Array[];
}

export interface BuildInput {
  agents: AgentSpec[];
  taxonomy?: Taxonomy;
  options: AgentIndexOptions;
  semantic?: SemanticTable;
  /** A saved index and the key it must carry to be used. */
  saved?: Uint8Array;
  key: string;
}

export interface Built {
  index: AgentIndex;
  /** The serialised fit, when it was fitted now (not loaded). */
  encoded?: Uint8Array;
  loaded: boolean;
}

export function buildIndex(input: BuildInput): Built {
  const { agents, taxonomy, semantic } = input;
  const options: AgentIndexOptions = semantic
    ? { ...input.options, semantic: new LookupEncoder(semantic.id, semantic.dim, new Map(semantic.texts.map((t, i) => [t, semantic.vectors[i]!]))), semanticAtQuery: true }
    : input.options;
  if (input.saved) {
    try {
      const { key, state } = decodeAgentIndex(input.saved);
      if (key === input.key) return { index: agentIndexFromState(state, agents, options), loaded: true };
    } catch {
      // unreadable or stale: refit below
    }
  }
  const state = fitAgentIndex(agents, taxonomy, options);
  return { index: agentIndexFromState(state, agents, options), encoded: encodeAgentIndex(state, input.key), loaded: false };
}
