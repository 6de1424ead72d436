// What the commands that call a pool (profile, pool add) share: the provider config and the usage error they exit 2 on.
import { readFileSync } from 'node:fs';
import { parseProviders, type ProviderConfig } from '@moma/executor';

/** Bad arguments or input the user can fix: the command prints it and exits 2. */
export class UsageError extends Error {}

/**
 * The provider config, parsed as the executor parses it: `--providers FILE`, else $MOMA_PROVIDERS, else
 * $MOMA_PROVIDERS_FILE; undefined when none is given.
 */
export function readProviders(file: string | undefined, env: Record<string, string | undefined>): ProviderConfig[] | undefined {
  const text = file ? readFileSync(file, 'utf8') : env.MOMA_PROVIDERS ?? (env.MOMA_PROVIDERS_FILE ? readFileSync(env.MOMA_PROVIDERS_FILE, 'utf8') : undefined);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`providers: not JSON (${(e as Error).message})`);
  }
  return parseProviders(raw, env, file ? `--providers ${file}` : 'MOMA_PROVIDERS');
}
