import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadTaxonomy, parseTaxonomy } from './taxonomy.ts';

describe('intent taxonomy', () => {
  it('taxonomy - the committed default parses', async () => {
    const t = await loadTaxonomy(fileURLToPath(new URL('../../../config/taxonomy.json', import.meta.url)));
    expect(t.categories.length).toBeGreaterThanOrEqual(5);
    expect(new Set(t.categories.map((c) => c.id)).size).toBe(t.categories.length);
  });

  it('taxonomy - malformed input names the field', async () => {
    expect(() => parseTaxonomy({ categories: [{ id: 'a' }] })).toThrow(/categories\.0\.description/);
    expect(() => parseTaxonomy({ categories: [{ id: 'a', description: 'x' }, { id: 'a', description: 'y' }] })).toThrow(/duplicate category id "a"/);
    expect(() => parseTaxonomy([])).toThrow(/\(root\)|categories/);
    await expect(loadTaxonomy('/nonexistent/taxonomy.json')).rejects.toThrow(/MOMA_TAXONOMY_FILE/);
  });
});
