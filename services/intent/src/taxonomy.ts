// Reads and validates the top-down taxonomy file (MOMA_TAXONOMY_FILE).
import { readFile } from 'node:fs/promises';
import type { Taxonomy } from '@moma/core';
import { MomaError } from '@moma/platform';
import { z } from 'zod';

const taxonomySchema = z.object({
  categories: z.array(
    z.object({
      id: z.string().trim().min(1, 'must be a non-empty string'),
      description: z.string().trim().min(1, 'must be a non-empty string'),
      examples: z.array(z.string()).optional(),
      agentIds: z.array(z.string()).optional(),
    }),
  ),
});

/** Parses taxonomy JSON; the error names the file and the offending field. */
export function parseTaxonomy(json: unknown, source = 'taxonomy'): Taxonomy {
  const r = taxonomySchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw MomaError.invalidArgument(`${source}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const seen = new Set<string>();
  for (const c of r.data.categories) {
    if (seen.has(c.id)) throw MomaError.invalidArgument(`${source}: duplicate category id "${c.id}"`);
    seen.add(c.id);
  }
  // Rebuild without undefined optionals (exactOptionalPropertyTypes-friendly and what the core expects).
  return {
    categories: r.data.categories.map((c) => ({
      id: c.id,
      description: c.description,
      ...(c.examples ? { examples: c.examples } : {}),
      ...(c.agentIds ? { agentIds: c.agentIds } : {}),
    })),
  };
}

export async function loadTaxonomy(path: string): Promise<Taxonomy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw MomaError.notFound(`cannot read taxonomy ${path}: ${(err as Error).message} (check MOMA_TAXONOMY_FILE)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw MomaError.invalidArgument(`taxonomy ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseTaxonomy(json, `taxonomy ${path}`);
}
