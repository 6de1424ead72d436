import type { AgentCardData } from './card.ts';

/** Splits identifiers like "FindRestaurants" or "number_of_seats" into words, so names match queries. */
export function humanize(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\-.:/]+/g, ' ')
    .trim();
}

/**
 * The texts an agent is known by, one per training sample: each skill example, each skill's name + description +
 * tags, and the card's name + description. Cards without examples (SGD services) still get a few samples.
 */
export function agentTexts(card: AgentCardData): string[] {
  const out: string[] = [];
  const head = `${humanize(card.name)} ${card.description}`.trim();
  if (head) out.push(head);
  for (const s of card.skills) {
    const desc = `${humanize(s.name)} ${s.description} ${s.tags.map(humanize).join(' ')}`.trim();
    if (desc) out.push(desc);
    for (const e of s.examples) if (e.trim()) out.push(e);
  }
  return out;
}
