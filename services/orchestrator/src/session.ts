// A conversation's state as stored under `session:<id>` (Redis key moma:session:<id>), and the pure steps that
// advance it. Handlers read it once and write it back with one compare-and-set (see cas.ts).
import type { FsmState } from '@moma/core';
import type { ChatMessage, Target } from '@moma/proto';

export interface SessionRecord {
  id: string;
  history: ChatMessage[];
  fsm: FsmState;
  /** What the last turn's decision chose, and what answered it (they differ after a fallback). */
  lastChosen?: Target;
  lastServedBy?: Target;
  /** LLMs that failed in this session (fallen back from, or a failed turn tried them) and have not answered since. */
  failedModels?: string[];
  agentContextId?: string;
  agentTaskId?: string;
  /** The tenant that created the session: the only one that may read or extend it. */
  tenant?: string;
  /** The turn in flight (decided, not yet recorded) and until when it holds the session (epoch ms). */
  turn?: { id: string; until: number };
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

export const SESSION_KEY_PREFIX = 'session:';
export const sessionKey = (id: string): string => SESSION_KEY_PREFIX + id;

export function newSession(id: string, now: number, tenant = ''): SessionRecord {
  return { id, history: [], fsm: { kind: 'idle' }, ...(tenant ? { tenant } : {}), createdAt: now, updatedAt: now };
}

/** Appends turns, keeping the newest `max` so a long conversation cannot grow the Redis value without bound. */
export function appendHistory(history: readonly ChatMessage[], turns: readonly ChatMessage[], max: number): ChatMessage[] {
  const next = [...history, ...turns.map((t) => ({ role: t.role, content: t.content }))];
  return next.length > max ? next.slice(next.length - max) : next;
}

/** The A2A ids to continue with `agentId`, taken from the state the conversation is in with that agent. */
export function agentIdsFor(state: FsmState, agentId: string): { contextId: string; taskId: string } {
  if (state.kind === 'awaiting_input' && state.agentId === agentId) return { contextId: state.contextId, taskId: state.taskId };
  if (state.kind === 'engaged' && state.agentId === agentId) return { contextId: state.contextId ?? '', taskId: '' };
  return { contextId: '', taskId: '' };
}

/** Failed models a session remembers at most (the oldest are forgotten first). */
export const MAX_FAILED_MODELS = 32;

/**
 * The session's failed LLMs after a turn: those that failed in it added, the one that answered it removed (it works
 * again), the newest `max` kept.
 */
export function nextFailedModels(current: readonly string[], failedNow: readonly string[], servedBy: string | undefined, max = MAX_FAILED_MODELS): string[] {
  const next = current.filter((m) => !failedNow.includes(m));
  for (const m of failedNow) if (!next.includes(m)) next.push(m);
  const kept = servedBy === undefined ? next : next.filter((m) => m !== servedBy);
  return kept.length > max ? kept.slice(kept.length - max) : kept;
}
