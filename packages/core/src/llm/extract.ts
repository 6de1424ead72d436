import type { RouteInput } from './types.ts';

/** A solved in-context example ends with "Answer:" followed by its answer, then a blank line. */
const SOLVED_EXAMPLE = /Answer:[ \t]*\n?[ \t]*[^\n]{1,40}\n\s*\n/g;
const CONTEXT_CHARS = 300;

/**
 * The question a prompt actually asks. RouterBench's ARC and Winogrande prompts carry solved few-shot examples
 * before the question; embedding them would make every query look alike, so route on what follows the last one.
 */
export function extractQuestion(prompt: string): string {
  const text = prompt.trim();
  let cut = -1;
  for (const m of text.matchAll(SOLVED_EXAMPLE)) cut = m.index + m[0].length;
  const rest = cut >= 0 ? text.slice(cut).trim() : text;
  return rest.length > 0 ? rest : text;
}

/**
 * Text the router embeds for a request: the question of the last user turn, plus the tail of the
 * conversation before it (a follow-up like "and in Python?" needs its context to be routed sensibly).
 */
export function routingText(input: RouteInput): string {
  const question = extractQuestion(input.text);
  const ctx = input.context;
  if (!ctx || ctx.length === 0) return question;
  let tail = '';
  for (let i = ctx.length - 1; i >= 0 && tail.length < CONTEXT_CHARS; i--) {
    const turn = ctx[i];
    if (!turn || turn.role === 'system') continue;
    tail = `${turn.content}\n${tail}`;
  }
  tail = tail.length > CONTEXT_CHARS ? tail.slice(tail.length - CONTEXT_CHARS) : tail;
  return tail.trim().length > 0 ? `${question}\n${tail.trim()}` : question;
}

/** Everything the chosen model will be sent (for prompt-token cost). */
export function promptText(input: RouteInput): string {
  if (!input.context || input.context.length === 0) return input.text;
  return `${input.context.map((t) => t.content).join('\n')}\n${input.text}`;
}
