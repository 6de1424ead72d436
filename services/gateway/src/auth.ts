// Who is calling: with MOMA_ADMIN_KEY set, every call carries `Authorization: Bearer <key>` (or `x-api-key`, as the
// Anthropic SDK sends it). The admin key may do anything for any tenant; any other key is looked up by the SHA-256
// of its secret (KeysStage.VerifyKey: the secret never travels on the bus) and acts for its own tenant only, within
// its scopes. Lookups are cached for a few seconds, so a revoked key stops working within `cacheMs`.
import { timingSafeEqual } from 'node:crypto';
import { Code, MomaError, secretDigest, type StageClient } from '@moma/platform';
import type { Turn } from '@moma/core/rules';
import { Scope, type KeysStageDefinition, type Limits } from '@moma/proto';

export interface Principal {
  /** The tenant the call acts for; undefined for the admin key, which acts for whichever tenant the call names. */
  tenant: string | undefined;
  scopes: ReadonlySet<Scope>;
  admin: boolean;
  /** The key's id ('' for the admin key): usage and the key's limits are counted under it. */
  keyId: string;
  /** The key's and its tenant's limits, when they have any (the admin key has none). */
  keyLimits: Limits | undefined;
  tenantLimits: Limits | undefined;
}

/** A turn with who sent it (set by asCaller at every door), so the router can apply the caller's limits. */
export type CallerTurn = Turn & { caller?: Principal | undefined };

export const SCOPE_NAMES: Record<string, Scope> = { route: Scope.SCOPE_ROUTE, agents: Scope.SCOPE_AGENTS, admin: Scope.SCOPE_ADMIN };
export const scopeName = (s: Scope): string => Object.entries(SCOPE_NAMES).find(([, v]) => v === s)?.[0] ?? 'unknown';

export class Auth {
  readonly #adminHash: Buffer | undefined;
  readonly #keys: StageClient<typeof KeysStageDefinition>;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { at: number; principal: Principal | undefined }>();

  constructor(adminKey: string | undefined, keys: StageClient<typeof KeysStageDefinition>, cacheMs = 5000) {
    this.#adminHash = adminKey ? secretDigest(adminKey) : undefined;
    this.#keys = keys;
    this.#cacheMs = cacheMs;
  }

  /** False when no admin key is configured: every call is let through as before (local use). */
  get enabled(): boolean {
    return this.#adminHash !== undefined;
  }

  /** The caller of a request with these credentials; UNAUTHENTICATED (401) without a valid key. */
  async principal(authorization: string | undefined, apiKey: string | undefined): Promise<Principal | undefined> {
    if (!this.#adminHash) return undefined;
    const secret = bearer(authorization) ?? apiKey?.trim();
    if (!secret) throw new MomaError(Code.UNAUTHENTICATED, 'missing API key: send Authorization: Bearer <key>');
    const hash = secretDigest(secret);
    if (timingSafeEqual(hash, this.#adminHash)) {
      return { tenant: undefined, scopes: new Set([Scope.SCOPE_ADMIN]), admin: true, keyId: '', keyLimits: undefined, tenantLimits: undefined };
    }
    const id = hash.toString('hex');
    const now = Date.now();
    let hit = this.#cache.get(id);
    if (!hit || now - hit.at > this.#cacheMs) {
      const res = await this.#keys.verifyKey({ secretSha256: hash });
      const k = res.valid ? res.key : undefined;
      const principal: Principal | undefined = k
        ? { tenant: k.tenant, scopes: new Set(k.scopes), admin: k.scopes.includes(Scope.SCOPE_ADMIN), keyId: k.id, keyLimits: k.limits, tenantLimits: res.tenantLimits }
        : undefined;
      hit = { at: now, principal };
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(id, hit);
    }
    if (!hit.principal) throw new MomaError(Code.UNAUTHENTICATED, 'invalid API key');
    return hit.principal;
  }
}

function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

/** PERMISSION_DENIED (403) unless the caller may use `scope` (admin may use all). No principal = auth is off. */
export function requireScope(p: Principal | undefined, scope: Scope): void {
  if (!p || p.admin || p.scopes.has(scope)) return;
  throw new MomaError(Code.PERMISSION_DENIED, `this API key lacks the "${scopeName(scope)}" scope`);
}

/** The tenant a call acts for: the key's, whatever the request says; the admin key's caller names it. */
export function tenantFor(p: Principal | undefined, requested: string): string {
  return p?.tenant !== undefined ? p.tenant : requested;
}

/** The turn as the caller may send it: its tenant is the key's, and it carries the caller (for its limits). */
export function asCaller<T extends Turn>(p: Principal | undefined, turn: T): T & CallerTurn {
  turn.options.tenant = tenantFor(p, turn.options.tenant);
  return Object.assign(turn, { caller: p });
}
