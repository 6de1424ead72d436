// Agent routing: A2A cards, the hybrid category index, calibration, the context-aware state machine and masking.
export { parseAgentCard, agentIdFromName, checkCardText, MAX_CARD_BYTES, MAX_CARD_DEPTH, type AgentCardData, type AgentSkillData } from './card.ts';
export type { AgentSpec, TaxonomyCategory, Taxonomy, ClassifyResult, AgentIndex, AgentIndexOptions, QueryVectors, ScoreWeights } from './types.ts';
export { buildAgentIndex, fitAgentIndex, fitOptions, agentIndexFromState, indexTexts, type AgentIndexState } from './agent-index.ts';
export { encodeAgentIndex, decodeAgentIndex, savedIndexKey } from './index-file.ts';
export { Lda, type LdaOptions, type LdaState } from './lda.ts';
export type { SoftmaxHeadOptions } from './head.ts';
export { calibrateThreshold, thresholdMetrics, type CalibrationSample, type CalibrationResult, type CalibrationOptions } from './calibrate.ts';
export { maskCandidates, type AgentAvailability, type MaskResult } from './mask.ts';
export {
  decideAgentTurn,
  applyAgentOutcome,
  fsmStateName,
  heldBy,
  DEFAULT_FSM_POLICY,
  type FsmState,
  type FsmPolicy,
  type AgentTurnInput,
  type AgentTurnDecision,
} from './fsm.ts';
export { WordVectorEncoder, ConcatEncoder } from './word-vectors.ts';
export { ShiftDetector, type ShiftSample } from './shift.ts';
