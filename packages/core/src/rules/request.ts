// Rules for the parts of a client's request that routing does not read but a provider would reject: tool results
// that answer no tool call, content parts of unknown type, image URLs that are not http(s) or data:, and a
// response_format schema that is not an object. Broken here, the request gets a 400 naming the field and nothing is
// sent upstream.
import { Capability } from '@moma/proto/common';
import { InvalidInputError } from '../errors.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

const PART_TYPES: ReadonlySet<string> = new Set(['text', 'image_url', 'input_audio', 'file', 'refusal']);

function fail(field: string, message: string): never {
  throw new InvalidInputError(`${field}: ${message}`, field);
}

/** Checks the client's messages (whole objects) and its tools / response_format, as a provider would. */
export function validateRequestParts(request: Json): void {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const calls = new Set<string>();
  messages.forEach((m: unknown, i) => {
    if (!isObject(m)) fail(`messages.${i}`, 'must be an object');
    if (Array.isArray(m.tool_calls)) {
      m.tool_calls.forEach((c: unknown, k) => {
        if (!isObject(c) || typeof c.id !== 'string' || c.id === '') fail(`messages.${i}.tool_calls.${k}.id`, 'must be a non-empty string');
        calls.add(c.id);
      });
    }
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string' || !calls.has(m.tool_call_id)) {
        fail(`messages.${i}.tool_call_id`, `must name a tool call of an earlier assistant message (got ${JSON.stringify(m.tool_call_id ?? null)})`);
      }
    }
    if (Array.isArray(m.content)) m.content.forEach((part: unknown, k) => checkPart(part, `messages.${i}.content.${k}`));
  });
  if (request.tools !== undefined) {
    if (!Array.isArray(request.tools)) fail('tools', 'must be an array');
    request.tools.forEach((t: unknown, k) => {
      // OpenAI's two kinds: function tools (a JSON Schema for the arguments) and custom tools (free-form input).
      const kind = isObject(t) && (t.type === 'function' || t.type === 'custom') ? t.type : undefined;
      const spec = kind && isObject(t) ? t[kind] : undefined;
      if (!kind || !isObject(spec) || typeof spec.name !== 'string' || spec.name === '') {
        fail(`tools.${k}`, 'must be {"type":"function","function":{"name":...}} or {"type":"custom","custom":{"name":...}}');
      }
      if (kind === 'function' && spec.parameters !== undefined && !isObject(spec.parameters)) fail(`tools.${k}.function.parameters`, 'must be a JSON Schema object');
    });
  }
  const format = request.response_format;
  if (format !== undefined) {
    if (!isObject(format) || typeof format.type !== 'string') fail('response_format', 'must be an object with a type');
    if (format.type === 'json_schema') {
      const js = format.json_schema;
      if (!isObject(js) || typeof js.name !== 'string' || (js.schema !== undefined && !isObject(js.schema))) {
        fail('response_format.json_schema', 'must be {"name":...,"schema":{...}} with an object schema');
      }
    }
  }
}

function checkPart(part: unknown, field: string): void {
  if (!isObject(part) || typeof part.type !== 'string') fail(field, 'must be an object with a type');
  if (!PART_TYPES.has(part.type)) fail(`${field}.type`, `must be one of ${[...PART_TYPES].join(', ')} (got ${JSON.stringify(part.type)})`);
  if (part.type === 'image_url') {
    const url = isObject(part.image_url) ? part.image_url.url : undefined;
    if (typeof url !== 'string' || !/^(https?:\/\/|data:)/i.test(url)) fail(`${field}.image_url.url`, 'must be an http(s) or data: URL');
  }
}

/** The text of a message's content as routing reads it: a string, or its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) if (isObject(part) && part.type === 'text' && typeof part.text === 'string' && part.text) out += out ? `\n${part.text}` : part.text;
  return out;
}

/** What the request needs from the model: tools, image input, JSON output (in that order, each once). */
export function requiredCapabilities(request: Json): Capability[] {
  const out: Capability[] = [];
  if (Array.isArray(request.tools) && request.tools.length > 0) out.push(Capability.CAPABILITY_TOOLS);
  const messages = Array.isArray(request.messages) ? request.messages : [];
  const image = messages.some((m: unknown) => isObject(m) && Array.isArray(m.content) && m.content.some((p: unknown) => isObject(p) && p.type === 'image_url'));
  if (image) out.push(Capability.CAPABILITY_VISION);
  const format = request.response_format;
  if (isObject(format) && (format.type === 'json_object' || format.type === 'json_schema')) out.push(Capability.CAPABILITY_JSON_OUTPUT);
  return out;
}

const CAPABILITY_NAMES: Readonly<Record<string, Capability>> = {
  tools: Capability.CAPABILITY_TOOLS,
  vision: Capability.CAPABILITY_VISION,
  json: Capability.CAPABILITY_JSON_OUTPUT,
};

/** "tools" | "vision" | "json" → Capability (config files name them so); undefined for anything else. */
export const capabilityOf = (name: string): Capability | undefined => (Object.hasOwn(CAPABILITY_NAMES, name) ? CAPABILITY_NAMES[name] : undefined);

/** The name of a capability, for messages. */
export const capabilityName = (c: Capability): string => Object.keys(CAPABILITY_NAMES).find((k) => CAPABILITY_NAMES[k] === c) ?? String(c);

/**
 * The nesting depth of objects and arrays in JSON text, scanned without parsing (no recursion, so any depth is safe
 * to measure); stops counting once it passes `stopAbove`.
 */
export function jsonDepth(raw: string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > stopAbove) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
