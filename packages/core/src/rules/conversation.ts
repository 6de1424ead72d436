// What the model is sent on a session's turn: the session's history with the new turn, or the client's own
// conversation when it sent one.

/**
 * Whether the request carries only the new turn (system/developer prompts + one user message, no assistant
 * replies), in which case the session's history goes before it; otherwise the client sent the whole conversation.
 */
export function carriesOnlyNewTurn(messages: ReadonlyArray<{ role: string }>): boolean {
  let users = 0;
  for (const m of messages) {
    if (m.role === 'assistant') return false;
    if (m.role === 'user') users++;
  }
  return users === 1;
}

const isInstruction = (m: { role: string }) => m.role === 'system' || m.role === 'developer';

/**
 * Session history + the new turn when the request carries only that turn; otherwise the client's messages as they
 * are. The request's system prompts lead, unless the history already starts with one (then the history's stays).
 * Works on routing's text messages and on the client's whole message objects alike.
 */
export function mergeConversation<M extends { role: string }>(messages: M[], history: readonly M[]): M[] {
  if (history.length === 0 || !carriesOnlyNewTurn(messages)) return messages;
  const head: M[] = [];
  const rest: M[] = [];
  for (const m of messages) (isInstruction(m) ? head : rest).push(m);
  return [...(history[0] && isInstruction(history[0]) ? [] : head), ...history, ...rest];
}
