import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where fitted policies are kept between runs (one small JSON file per input hash). */
export function defaultCacheDir(): string {
  return join(tmpdir(), 'moma-cache', 'eval-agents');
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures' && e.name !== 'node_modules') out.push(...tsFiles(p));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

let fingerprint: string | undefined;

/**
 * A hash of the code a fit depends on (@moma/core's sources and the SGD loading and fitting code), so a cached fit is not reused after
 * the index, the state machine or the fitting code change.
 */
export function codeFingerprint(): string {
  if (fingerprint) return fingerprint;
  const h = createHash('sha256');
  const coreSrc = dirname(createRequire(import.meta.url).resolve('@moma/core'));
  const here = dirname(fileURLToPath(import.meta.url));
  for (const f of [...tsFiles(coreSrc), join(here, 'sgd.ts'), join(here, 'sgd-data.ts'), join(here, 'errors.ts')]) {
    h.update(f.slice(f.lastIndexOf('/src/')));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  fingerprint = h.digest('hex');
  return fingerprint;
}

/** sha256 over the JSON of the parts (training inputs, options, code fingerprint). */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export interface CacheRef {
  key: string;
  file: string;
}

export function cacheRef(dir: string, name: string, key: string): CacheRef {
  return { key, file: join(dir, `${name}-${key.slice(0, 32)}.json`) };
}

/** The cached value, or undefined when absent, unreadable or stored under another key. */
export function readCache<T>(ref: CacheRef, valid: (v: unknown) => v is T): T | undefined {
  try {
    if (!statSync(ref.file).isFile()) return undefined;
    const v = JSON.parse(readFileSync(ref.file, 'utf8')) as { key?: string; value?: unknown };
    return v.key === ref.key && valid(v.value) ? v.value : undefined;
  } catch {
    return undefined;
  }
}

/** Writes atomically (temp file + rename); a cache that cannot be written is not an error. */
export function writeCache(ref: CacheRef, value: unknown): boolean {
  try {
    mkdirSync(dirname(ref.file), { recursive: true });
    const tmp = `${ref.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ key: ref.key, value }));
    renameSync(tmp, ref.file);
    return true;
  } catch {
    return false;
  }
}
