// @moma/core/rules: the decision rules as pure functions over the contract's messages. Light on purpose (no
// encoder, no tokenizer), so the gateway can apply them without loading the routing models.
export { llmTarget, agentTarget, isAgent, isLlm, agentIdOf, targetText, sameTarget, parseTarget } from './target.ts';
export { modeName, routingMode } from './mode.ts';
export { validateTurn, validateMessages, validateSampling, routedTurnIndex, parseSwitchTo, checkSessionId, isValidSessionId, checkTenant, ROLES, MAX_TENANT_CHARS, type Turn } from './turn.ts';
export { mergeConversation, carriesOnlyNewTurn } from './conversation.ts';
export { sessionRanking, type SessionModels, type SessionRanking } from './affinity.ts';
export { skipOrchestrator, composeDecision, type SkipInput, type DecisionParts } from './decision.ts';
export { agentOutcome, type TurnResult, type AgentOutcome } from './outcome.ts';
export { tenantMayUse } from '../agents/mask.ts';
export { validateRequestParts, contentText, requiredCapabilities, capabilityOf, capabilityName, jsonDepth } from './request.ts';
export { hasLimits, costModeAt } from './limits.ts';
export { reasonClass, REASON_CLASSES, type ReasonClass } from './reason.ts';
