// Targets: what a request is sent to, typed (kind + id) everywhere, and shown to people as "llm:<id>" /
// "agent:<id>" (headers, JSON, logs). These are the only functions that build or read that text form.
import { TargetKind, type Target } from '@moma/proto/common';
import { InvalidInputError } from '../errors.ts';

export const llmTarget = (id: string): Target => ({ kind: TargetKind.TARGET_KIND_LLM, id });
export const agentTarget = (id: string): Target => ({ kind: TargetKind.TARGET_KIND_AGENT, id });

export const isAgent = (t: Target | undefined): boolean => t?.kind === TargetKind.TARGET_KIND_AGENT;
export const isLlm = (t: Target | undefined): boolean => t?.kind === TargetKind.TARGET_KIND_LLM;

/** The id of `t` when it is an agent, else null. */
export const agentIdOf = (t: Target | undefined): string | null => (t && isAgent(t) ? t.id : null);

/** "llm:gpt-4o", "agent:weather-bot"; '' for an unset target. */
export function targetText(t: Target | undefined): string {
  if (!t) return '';
  if (t.kind === TargetKind.TARGET_KIND_AGENT) return `agent:${t.id}`;
  if (t.kind === TargetKind.TARGET_KIND_LLM) return t.id ? `llm:${t.id}` : 'llm';
  return t.id;
}

export const sameTarget = (a: Target | undefined, b: Target | undefined): boolean =>
  a !== undefined && b !== undefined && a.kind === b.kind && a.id === b.id;

// Model ids often carry a provider or organisation path ("openai/gpt-4o", "meta-llama/Llama-3-8B").
const ID = /^[A-Za-z0-9._:/@+-]{1,128}$/;

/**
 * The text form back to a Target: "agent:<id>", "llm:<model>" or "llm" (the LLM path, no model). Throws
 * InvalidInputError naming `field` for anything else.
 */
export function parseTarget(text: string, field: string): Target {
  if (text === 'llm') return llmTarget('');
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  const id = colon > 0 ? text.slice(colon + 1) : '';
  if ((kind === 'agent' || kind === 'llm') && ID.test(id)) return kind === 'agent' ? agentTarget(id) : llmTarget(id);
  throw new InvalidInputError(`${field}: must be "llm", "llm:<model>" or "agent:<id>" (got ${JSON.stringify(text.slice(0, 80))})`, field);
}
