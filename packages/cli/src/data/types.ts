/** One query with every model's score, normalised from any of the supported dataset formats. */
export interface RoutingRow {
  id: string;
  split: 'train' | 'test';
  /** Eval group (RouterBench eval_name, LLMRouter task, MMLU subject). */
  task: string;
  prompt: string;
  /** Per model (dataset order), score in [0, 1]; NaN when missing. */
  scores: Float32Array;
  /** Per model, USD of the call when the data records it (RouterBench); else computed from prices. */
  costUsd: Float32Array;
}

export interface DatasetModel {
  id: string;
  inputPricePerMTok: number;
  outputPricePerMTok: number;
  outputTokens: number;
}

/** Where the rows came from: the routing-data format itself, a source imported on the fly, or several. */
export type DatasetFormat = 'moma' | 'routerbench' | 'routellm' | 'llmrouter' | 'mixed';

export interface RoutingDataset {
  name: string;
  format: DatasetFormat;
  models: DatasetModel[];
  rows: RoutingRow[];
  /** Groups reported separately by `moma eval`. */
  evals: string[];
  /** Field used to group rows into evals. */
  evalOf: (row: RoutingRow) => string;
  /** Two-model sets (strong, weak) get APGR/CPT. */
  strongWeak?: [number, number];
  notes: string[];
}
