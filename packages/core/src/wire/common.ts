// What the wire translators share: JSON guards, the error they throw for a request they cannot translate, and the
// parts of an OpenAI chat completion (or chunk) they read.
import { InvalidInputError } from '../errors.ts';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A 400 naming the field of the client's request (the door's own field names, not the chat body's). */
export function fail(field: string, message: string): never {
  throw new InvalidInputError(`${field}: ${message}`, field);
}

/** One server-sent event as the doors write it: a named event and its JSON data. */
export interface SseEvent {
  event: string;
  data: Json;
}

/** `event: <name>\ndata: <json>\n\n`. */
export function sseText(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** Token counts an answer reports (the provider's usage, or the executor's accounting when it has none). */
export interface TokenCounts {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens served from the provider's cache (part of promptTokens). */
  cachedTokens?: number;
  /** Completion tokens spent on reasoning (part of completionTokens). */
  reasoningTokens?: number;
}

/** The counts in an OpenAI `usage` object, or undefined when it has none. */
export function chatUsage(usage: unknown): TokenCounts | undefined {
  if (!isObject(usage) || typeof usage.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number') return undefined;
  const cached = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details.cached_tokens : undefined;
  const reasoning = isObject(usage.completion_tokens_details) ? usage.completion_tokens_details.reasoning_tokens : undefined;
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    ...(typeof cached === 'number' ? { cachedTokens: cached } : {}),
    ...(typeof reasoning === 'number' ? { reasoningTokens: reasoning } : {}),
  };
}

/** The first choice's message of a chat completion: its text, refusal, tool calls and why it ended. */
export interface ChatAnswer {
  text: string;
  refusal: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  /** OpenAI's finish_reason ('' when absent). */
  finish: string;
  /** The stop string an OpenAI-compatible server says it stopped at (vLLM `stop_reason`, SGLang `matched_stop`). */
  matchedStop: string | undefined;
  model: string;
  usage: TokenCounts | undefined;
}

/** Reads choice 0 of a chat.completion. */
export function chatAnswer(completion: unknown): ChatAnswer {
  const { body, choice, end } = choiceZero(completion);
  const m = isObject(choice.message) ? choice.message : {};
  const toolCalls = (Array.isArray(m.tool_calls) ? m.tool_calls : []).filter(isObject).map((t, i) => ({
    id: typeof t.id === 'string' && t.id !== '' ? t.id : `call_${i}`,
    ...toolFunction(t),
  }));
  return { text: contentString(m.content), refusal: typeof m.refusal === 'string' ? m.refusal : '', toolCalls, ...end, usage: chatUsage(body.usage) };
}

/**
 * Choice 0 of a chat.completion or chunk (MoMA's doors speak for one answer; `n` > 1 is not theirs to ask), with
 * how it ended and the model the body names ('' for each that is absent).
 */
function choiceZero(completion: unknown): { body: Json; choice: Json; end: Pick<ChatAnswer, 'finish' | 'matchedStop' | 'model'> } {
  const body = isObject(completion) ? completion : {};
  const found = Array.isArray(body.choices) ? body.choices.find((x) => isObject(x) && (x.index ?? 0) === 0) : undefined;
  const choice = isObject(found) ? found : {};
  const end = {
    finish: typeof choice.finish_reason === 'string' ? choice.finish_reason : '',
    matchedStop: matchedStop(choice),
    model: typeof body.model === 'string' ? body.model : '',
  };
  return { body, choice, end };
}

/** A tool call's function name and arguments ('' for each that is absent). */
function toolFunction(t: Json): { name: string; arguments: string } {
  const fn = isObject(t.function) ? t.function : {};
  return { name: typeof fn.name === 'string' ? fn.name : '', arguments: typeof fn.arguments === 'string' ? fn.arguments : '' };
}

export function matchedStop(choice: Json): string | undefined {
  const v = typeof choice.stop_reason === 'string' ? choice.stop_reason : choice.matched_stop;
  return typeof v === 'string' ? v : undefined;
}

/** A message content as text: a string, or its text parts concatenated. */
export function contentString(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
}

/** Tool-call arguments as a JSON object: '' is `{}`; text that is not a JSON object is kept under `_raw`. */
export function parseArguments(args: string): Json {
  if (args.trim() === '') return {};
  try {
    const v: unknown = JSON.parse(args);
    if (isObject(v)) return v;
  } catch {
    // not JSON: fall through
  }
  return { _raw: args };
}

/** The parts of a chat.completion.chunk's first choice the stream translators act on. */
export interface ChunkParts {
  content: string;
  refusal: string;
  tools: Array<{ index: number; id?: string; name?: string; arguments: string }>;
  finish: string;
  matchedStop: string | undefined;
  model: string;
}

export function chunkParts(chunk: unknown): ChunkParts {
  const { choice, end } = choiceZero(chunk);
  const d = isObject(choice.delta) ? choice.delta : {};
  const tools = (Array.isArray(d.tool_calls) ? d.tool_calls : []).filter(isObject).map((t, i) => {
    const { name, arguments: args } = toolFunction(t);
    return {
      index: typeof t.index === 'number' ? t.index : i,
      ...(typeof t.id === 'string' && t.id !== '' ? { id: t.id } : {}),
      ...(name !== '' ? { name } : {}),
      arguments: args,
    };
  });
  return { content: contentString(d.content), refusal: typeof d.refusal === 'string' ? d.refusal : '', tools, ...end };
}

/** A chat function tool. */
export function chatTool(name: string, description: unknown, parameters: unknown, strict: unknown): Json {
  return {
    type: 'function',
    function: {
      name,
      ...(typeof description === 'string' ? { description } : {}),
      ...(parameters !== undefined ? { parameters } : {}),
      ...(typeof strict === 'boolean' ? { strict } : {}),
    },
  };
}

export const isString = (v: unknown): v is string => typeof v === 'string';
