import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { jsonDepth } from '../rules/request.ts';

/** One A2A skill as routing sees it; optional A2A fields are normalised to empty values. */
export interface AgentSkillData {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
}

/** The parts of an A2A Agent Card that routing uses. */
export interface AgentCardData {
  name: string;
  description: string;
  url: string;
  version: string;
  skills: AgentSkillData[];
}

const nonEmpty = z.string().trim().min(1, 'must be a non-empty string');

// A2A cards carry many more fields (capabilities, defaultInputModes, protocolVersion, provider, ...): loose objects
// keep them valid while we read only what routing needs.
const text = (max: number) => z.string().max(max, { message: `must be at most ${max} characters` });
const skillSchema = z.looseObject({
  id: nonEmpty.pipe(text(128)),
  name: nonEmpty.pipe(text(200)),
  description: text(4000).default(''),
  tags: z.array(text(100)).max(64).default([]),
  examples: z.array(text(1000)).max(200).default([]),
});

const cardSchema = z.looseObject({
  name: nonEmpty.pipe(text(200)),
  description: text(4000).default(''),
  url: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }),
  version: text(64).default('0.0.0'),
  skills: z.array(skillSchema).max(100).default([]),
});

/** Largest card text accepted, inline or fetched. */
export const MAX_CARD_BYTES = 256 * 1024;
/** Deepest nesting of objects and arrays accepted in a card. */
export const MAX_CARD_DEPTH = 32;

/**
 * Checks a card's raw JSON text for size and nesting depth before it is parsed, so a card nested thousands deep or
 * megabytes long is refused with a clear message instead of exhausting the stack or memory. Throws InvalidInputError.
 */
export function checkCardText(raw: string, field = 'card_json'): void {
  const bytes = Buffer.byteLength(raw);
  if (bytes > MAX_CARD_BYTES) throw new InvalidInputError(`${field}: card is ${bytes} bytes, more than the ${MAX_CARD_BYTES} allowed`, field);
  if (jsonDepth(raw, MAX_CARD_DEPTH) > MAX_CARD_DEPTH) throw new InvalidInputError(`${field}: card is nested deeper than ${MAX_CARD_DEPTH} levels`, field);
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(card)';
}

/**
 * Validates an A2A Agent Card. Throws InvalidInputError naming every bad field
 * (e.g. `skills[2].id: must be a non-empty string`), so a registry can refuse a malformed card with a useful message.
 */
export function parseAgentCard(json: unknown): AgentCardData {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidInputError('invalid agent card: (card): expected a JSON object', '(card)');
  }
  const r = cardSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`);
    const first = r.error.issues[0];
    throw new InvalidInputError(`invalid agent card: ${issues.join('; ')}`, first ? pathOf(first.path) : undefined);
  }
  const c = r.data;
  const seen = new Set<string>();
  c.skills.forEach((s, i) => {
    if (seen.has(s.id)) throw new InvalidInputError(`invalid agent card: skills[${i}].id: duplicate skill id "${s.id}"`, `skills[${i}].id`);
    seen.add(s.id);
  });
  return {
    name: c.name.trim(),
    description: c.description,
    url: c.url,
    version: c.version,
    skills: c.skills.map((s) => ({
      id: s.id,
      name: s.name,
      description: s.description,
      tags: s.tags.filter((t) => t.trim() !== ''),
      examples: s.examples.filter((e) => e.trim() !== ''),
    })),
  };
}

/** Stable, URL-safe agent id from a card name: "Weather Bot 2" → "weather-bot-2". */
export function agentIdFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
  if (!slug) throw new InvalidInputError(`agent name "${name}" has no letters or digits to make an id from`, 'name');
  return slug;
}
