// Prices for the cost axis: `--prices FILE`, either a table {"<model>": {"input": USD/1M, "output": USD/1M}} or a
// provider config (the MOMA_PROVIDERS array, whose entries carry `prices`), else MOMA_PROVIDERS itself.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { issueText, pricesSchema, type Prices } from './format.ts';

const providers = z.array(z.object({ prices: pricesSchema.optional() }).loose());

function parse(json: unknown, where: string): Prices {
  const table = pricesSchema.safeParse(json);
  if (table.success) return table.data;
  const list = providers.safeParse(json);
  if (list.success) return Object.assign({}, ...list.data.map((p) => p.prices ?? {})) as Prices;
  throw new Error(`${where}: not a price table (${issueText(table.error, '(top)')}) nor a provider list with prices`);
}

/** The prices to load data with: the file's, or MOMA_PROVIDERS' (undefined when neither is given). */
export function readPrices(file: string | undefined, env: Record<string, string | undefined> = process.env): Prices | undefined {
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`--prices ${file}: ${(e as Error).message}`);
    }
    return parse(json, `--prices ${file}`);
  }
  if (env.MOMA_PROVIDERS) {
    try {
      return parse(JSON.parse(env.MOMA_PROVIDERS), 'MOMA_PROVIDERS');
    } catch (e) {
      throw new Error(`MOMA_PROVIDERS: ${(e as Error).message}`);
    }
  }
  return undefined;
}
