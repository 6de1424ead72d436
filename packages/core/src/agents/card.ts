import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';

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
const skillSchema = z.looseObject({
  id: nonEmpty,
  name: nonEmpty,
  description: z.string().default(''),
  tags: z.array(z.string()).default([]),
  examples: z.array(z.string()).default([]),
});

const cardSchema = z.looseObject({
  name: nonEmpty,
  description: z.string().default(''),
  url: z.url({ message: 'must be an absolute URL' }),
  version: z.string().default('0.0.0'),
  skills: z.array(skillSchema).default([]),
});

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
