// The rules a turn must meet, whichever door it came through (gRPC Route/Chat or HTTP). Every door builds a Turn
// and calls `validateTurn` once; the stages behind it apply the same rules (session id, tenant) from here.
import type { ChatMessage, RouteOptions, Target } from '@moma/proto/common';
import { InvalidInputError } from '../errors.ts';
import { modeName } from './mode.ts';
import { agentTarget, llmTarget } from './target.ts';

export interface Turn {
  /** Session id the client gave ('' = none: a stateless turn, nothing is stored). */
  sessionId: string;
  messages: ChatMessage[];
  options: RouteOptions;
  /** Explicit user switch ("agent:<id>" hands the session to that agent, "llm" releases it); '' = none. */
  switchTo: string;
  maxTokens: number;
  temperature: number | undefined;
  /** Model id the request pinned ('' = moma/auto). */
  pinnedModel: string;
  /**
   * The client's request as the provider gets it (HTTP chat door): every field it sent but MoMA's own, its messages
   * with every field and content part. Unset for doors that only carry text (gRPC Route/Chat).
   */
  forward?: Record<string, unknown>;
}

/** Index of the user turn that is routed: the last user message (tool results after it continue that turn). */
export function routedTurnIndex(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return i;
  return -1;
}

/** Roles a turn may carry. */
export const ROLES: ReadonlySet<string> = new Set(['system', 'developer', 'user', 'assistant', 'tool']);
export const MAX_TENANT_CHARS = 128;

const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const isValidSessionId = (id: string): boolean => SESSION_ID.test(id);

/** Throws unless `id` is 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit. */
export function checkSessionId(id: string): void {
  if (!isValidSessionId(id)) {
    throw new InvalidInputError(
      `session_id: must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit (got ${JSON.stringify(id.slice(0, 40))})`,
      'session_id',
    );
  }
}

export function checkTenant(tenant: string): void {
  if (tenant.length > MAX_TENANT_CHARS) throw new InvalidInputError(`tenant: must be at most ${MAX_TENANT_CHARS} characters`, 'tenant');
}

function fail(field: string, message: string): never {
  throw new InvalidInputError(`${field}: ${message}`, field);
}

/**
 * A conversation any model can be sent: at least one message, known roles, ending with a user turn that has text
 * or with tool results (which continue the last user turn). (The executor checks what it is sent with this too: it
 * has a door of its own.)
 */
export function validateMessages(messages: readonly ChatMessage[]): void {
  if (messages.length === 0) fail('messages', 'must contain at least one message');
  messages.forEach((m, i) => {
    if (!ROLES.has(m.role)) fail(`messages.${i}.role`, `must be one of ${[...ROLES].join(', ')} (got ${JSON.stringify(m.role)})`);
  });
  const last = messages[messages.length - 1]!;
  if (last.role !== 'user' && last.role !== 'tool') fail('messages', `the last message must have role "user" or "tool" (got "${last.role}")`);
  const routed = messages[routedTurnIndex(messages)];
  if (!routed) fail('messages', 'must contain a user message');
  if (routed.content.trim() === '') fail('messages', 'the last user message must have non-empty content');
}

/** Generation limits: max_tokens ≥ 0 (0 = the provider's default), temperature in [0, 2]. */
export function validateSampling(s: { maxTokens: number; temperature?: number | undefined }): void {
  if (!(s.maxTokens >= 0)) fail('max_tokens', 'must be >= 0');
  if (s.temperature !== undefined && !(s.temperature >= 0 && s.temperature <= 2)) fail('temperature', 'must be in [0, 2]');
}

/** Throws InvalidInputError naming the first rule the turn breaks; the message is meant for the caller. */
export function validateTurn(turn: Turn): void {
  const { options } = turn;
  validateMessages(turn.messages);
  validateSampling(turn);
  modeName(options.mode);
  if (turn.sessionId !== '') checkSessionId(turn.sessionId);
  if (turn.switchTo !== '') parseSwitchTo(turn.switchTo);
  checkTenant(options.tenant);
  if (options.maxCostUsd !== undefined && !(options.maxCostUsd >= 0)) fail('max_cost_usd', 'must be >= 0');
  if (options.minQuality !== undefined && !(options.minQuality >= 0 && options.minQuality <= 1)) fail('min_quality', 'must be in [0, 1]');
  if (options.willingnessToPay !== undefined && !(options.willingnessToPay > 0)) fail('willingness_to_pay', 'must be > 0 (USD per unit of predicted quality)');
  if (options.switchCost !== undefined && !(options.switchCost >= 0 && Number.isFinite(options.switchCost))) {
    fail('switch_cost', 'must be a finite number >= 0 (utility another model must beat the previous turn\'s model by; 0 = route every turn afresh)');
  }
}

/** "llm" → the LLM path; "agent:<id>" → that agent; '' → no switch. Throws for anything else. */
export function parseSwitchTo(text: string): Target | undefined {
  if (text === '') return undefined;
  const m = /^(?:llm|agent:([A-Za-z0-9._:-]{1,128}))$/.exec(text);
  if (!m) fail('switch_to', 'must be "llm" or "agent:<id>"');
  return m[1] === undefined ? llmTarget('') : agentTarget(m[1]);
}
