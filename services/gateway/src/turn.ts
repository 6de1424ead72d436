// One validated request, whichever door it came through (gRPC Route/Chat or the OpenAI-compatible HTTP API).
// Both doors build a Turn and call `checkTurn`, so every rule (non-empty messages, last turn from the user, known
// mode...) is enforced once and produces the same INVALID_ARGUMENT message.
import { MomaError } from '@moma/platform';
import { RoutingMode, type ChatMessage, type RouteOptions } from '@moma/proto';

export interface Turn {
  /** Session id the client gave ('' = none: a stateless turn, nothing is stored). */
  sessionId: string;
  messages: ChatMessage[];
  options: RouteOptions;
  switchTo: string;
  maxTokens: number;
  temperature: number | undefined;
  /** Model id the request pinned ('' = moma/auto); checked against the scoring stage's list. */
  pinnedModel: string;
}

export const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);

export const MODE_NAMES = {
  quality: RoutingMode.ROUTING_MODE_QUALITY,
  balanced: RoutingMode.ROUTING_MODE_BALANCED,
  cost: RoutingMode.ROUTING_MODE_COST,
} as const;

const MODE_LABELS: Record<number, string> = {
  [RoutingMode.ROUTING_MODE_UNSPECIFIED]: 'balanced',
  [RoutingMode.ROUTING_MODE_QUALITY]: 'quality',
  [RoutingMode.ROUTING_MODE_BALANCED]: 'balanced',
  [RoutingMode.ROUTING_MODE_COST]: 'cost',
};

/** "quality" | "balanced" | "cost" for a RoutingMode (unspecified reads as the server default, balanced). */
export function modeLabel(mode: number): string {
  return MODE_LABELS[mode] ?? 'balanced';
}

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const SWITCH_TO = /^(llm|agent:[A-Za-z0-9._:-]{1,128})$/;

/** Throws INVALID_ARGUMENT naming the first rule the turn breaks; the message is meant for the caller. */
export function checkTurn(turn: Turn): void {
  const { messages, options } = turn;
  if (messages.length === 0) throw MomaError.invalidArgument('messages: must contain at least one message', { field: 'messages' });
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (!ROLES.has(m.role)) {
      throw MomaError.invalidArgument(`messages.${i}.role: must be one of system, user, assistant (got ${JSON.stringify(m.role)})`, {
        field: `messages.${i}.role`,
      });
    }
  }
  const last = messages[messages.length - 1]!;
  if (last.role !== 'user') {
    throw MomaError.invalidArgument(`messages: the last message must have role "user" (got "${last.role}")`, { field: 'messages' });
  }
  if (last.content.trim() === '') {
    throw MomaError.invalidArgument('messages: the last user message must have non-empty content', { field: 'messages' });
  }
  if (!(options.mode in MODE_LABELS)) {
    throw MomaError.invalidArgument(`options.mode: unknown mode ${options.mode}; use quality, balanced or cost`, { field: 'mode' });
  }
  if (turn.sessionId !== '' && !SESSION_ID.test(turn.sessionId)) {
    throw MomaError.invalidArgument('session_id: must be 1-128 characters of letters, digits, ".", "_", ":" or "-"', { field: 'session_id' });
  }
  if (turn.switchTo !== '' && !SWITCH_TO.test(turn.switchTo)) {
    throw MomaError.invalidArgument('switch_to: must be "llm" or "agent:<id>"', { field: 'switch_to' });
  }
  if (options.maxCostUsd !== undefined && !(options.maxCostUsd >= 0)) {
    throw MomaError.invalidArgument('max_cost_usd: must be >= 0', { field: 'max_cost_usd' });
  }
  if (options.minQuality !== undefined && !(options.minQuality >= 0 && options.minQuality <= 1)) {
    throw MomaError.invalidArgument('min_quality: must be in [0, 1]', { field: 'min_quality' });
  }
  if (options.willingnessToPay !== undefined && !(options.willingnessToPay >= 0)) {
    throw MomaError.invalidArgument('willingness_to_pay: must be >= 0', { field: 'willingness_to_pay' });
  }
  if (turn.maxTokens < 0) throw MomaError.invalidArgument('max_tokens: must be >= 0', { field: 'max_tokens' });
  if (turn.temperature !== undefined && !(turn.temperature >= 0 && turn.temperature <= 2)) {
    throw MomaError.invalidArgument('temperature: must be in [0, 2]', { field: 'temperature' });
  }
}

/**
 * Whether the request carries only the new turn (system prompts + one user message, no assistant replies), in which
 * case the session's history is prepended; otherwise the client sent the whole conversation and it is used as is.
 */
export function carriesOnlyNewTurn(messages: readonly ChatMessage[]): boolean {
  let users = 0;
  for (const m of messages) {
    if (m.role === 'assistant') return false;
    if (m.role === 'user') users++;
  }
  return users === 1;
}
