// OpenAI-style request bodies → Turn. zod checks the shape; the values are checked once, by the core's validateTurn.
// Routing controls may sit under `moma: {...}` or at the top level; the session id may also come in the
// `x-moma-session-id` header.
import { contentText, parseTarget, requiredCapabilities, routingMode, validateRequestParts, type Turn } from '@moma/core/rules';
import { MomaError } from '@moma/platform';
import { RouteOptions, type ChatMessage } from '@moma/proto';
import { z } from 'zod';

const contentPart = z.object({ type: z.string() }).loose();

const message = z
  .object({
    role: z.string({ message: 'must be a string' }),
    content: z.union([z.string(), z.array(contentPart), z.null()], { message: 'must be a string or an array of content parts' }).optional(),
  })
  .loose();

const modelList = z.array(z.string().min(1)).max(256);

const momaFields = {
  mode: z.string().optional(),
  willingness_to_pay: z.number().optional(),
  allowed_models: modelList.optional(),
  denied_models: modelList.optional(),
  max_cost_usd: z.number().optional(),
  min_quality: z.number().optional(),
  switch_cost: z.number().optional(),
  disable_agents: z.boolean().optional(),
  tenant: z.string().optional(),
  session_id: z.string().optional(),
  switch_to: z.string().optional(),
};

const momaOptions = z.object(momaFields).loose();

export const chatBodySchema = z
  .object({
    model: z.string().optional(),
    messages: z.array(message, { message: 'must be an array of messages' }),
    // OpenAI takes null for "unset" on its optional fields; so does MoMA.
    stream: z.boolean().nullish(),
    max_tokens: z.number().int().nullish(),
    max_completion_tokens: z.number().int().nullish(),
    temperature: z.number().nullish(),
    moma: momaOptions.optional(),
    ...momaFields,
  })
  .loose();


export interface ParsedChat {
  turn: Turn;
  stream: boolean;
}

/** Validates the body's shape (zod → INVALID_ARGUMENT with the field path) and maps it onto a Turn. */
export function parseChatBody(body: unknown, headerSessionId: string | undefined): ParsedChat {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw MomaError.invalidArgument('request body must be a JSON object');
  }
  const b = chatBodySchema.parse(body);
  const o = b.moma ?? {};
  const pick = <K extends keyof typeof momaFields>(k: K) => (o[k] !== undefined ? o[k] : b[k]);

  const modeName = pick('mode');

  const model = b.model ?? 'moma/auto';
  const pinnedModel = model === 'moma/auto' || model === 'auto' ? '' : model.startsWith('llm:') ? parseTarget(model, 'model').id : model;
  const allowed = pick('allowed_models') ?? [];
  const options = RouteOptions.fromPartial({
    mode: modeName === undefined ? undefined : routingMode(modeName),
    willingnessToPay: pick('willingness_to_pay'),
    allowedModels: pinnedModel ? [pinnedModel] : allowed,
    deniedModels: pick('denied_models') ?? [],
    maxCostUsd: pick('max_cost_usd'),
    minQuality: pick('min_quality'),
    switchCost: pick('switch_cost'),
    disableAgents: pick('disable_agents') ?? false,
    tenant: pick('tenant') ?? '',
    requires: requiredCapabilities(b),
  });

  validateRequestParts(b);
  const messages: ChatMessage[] = b.messages.map((m) => ({ role: m.role, content: contentText(m.content) }));
  return {
    stream: b.stream ?? false,
    turn: {
      sessionId: pick('session_id') ?? headerSessionId ?? '',
      messages,
      options,
      switchTo: pick('switch_to') ?? '',
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? 0,
      temperature: b.temperature ?? undefined,
      pinnedModel,
      // From the body as the client sent it, not zod's rebuilt copy: the provider gets exactly the client's fields.
      forward: forwardBody(body as Record<string, unknown>),
    },
  };
}

/** The request as the provider gets it: everything the client sent but MoMA's own routing controls. */
function forwardBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!MOMA_KEYS.has(k)) out[k] = v;
  return out;
}

const MOMA_KEYS: ReadonlySet<string> = new Set(['moma', ...Object.keys(momaFields)]);

const sessionBodySchema = z.object({ tenant: z.string().optional() }).loose();

/** POST /v1/sessions: an optional `{tenant}`; no body at all is fine. Returns the tenant ('' = default). */
export function parseSessionBody(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  if (typeof body !== 'object' || Array.isArray(body)) throw MomaError.invalidArgument('request body must be a JSON object');
  return sessionBodySchema.parse(body).tenant ?? '';
}
