// API keys: `apikey:<sha256 of the secret, hex>` holds the proto-JSON ApiKey (the Store adds its `moma:` prefix).
// The orchestrator is their only reader and writer. Secrets are 192 random bits, hashed with secretDigest
// (@moma/platform), as the gateway hashes what callers send; the secret itself is returned once, by CreateKey, and
// is stored nowhere.
import { randomBytes } from 'node:crypto';
import { MomaError, secretDigest, type Store } from '@moma/platform';
import { hasLimits } from '@moma/core';
import { checkLimits, type LimitStore } from './limits.ts';
import {
  ApiKey,
  Scope,
  type CreateKeyRequest,
  type CreateKeyResponse,
  type ListKeysResponse,
  type RevokeKeyResponse,
  type VerifyKeyResponse,
} from '@moma/proto';

export const API_KEY_PREFIX = 'apikey:';
/** Every secret starts so, which makes a leaked one easy to find with a secret scanner. */
export const SECRET_PREFIX = 'moma_sk_';
const KNOWN_SCOPES: ReadonlySet<Scope> = new Set([Scope.SCOPE_ROUTE, Scope.SCOPE_AGENTS, Scope.SCOPE_ADMIN]);
const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class KeyStore {
  readonly #store: Store;
  readonly #limits: LimitStore;

  constructor(store: Store, limits: LimitStore) {
    this.#store = store;
    this.#limits = limits;
  }

  async create(req: CreateKeyRequest): Promise<CreateKeyResponse> {
    const tenant = req.tenant.trim();
    if (!TENANT.test(tenant)) {
      throw MomaError.invalidArgument('tenant must be 1-128 letters, digits, ".", "_", ":" or "-"', { field: 'tenant' });
    }
    const scopes = [...new Set(req.scopes)].filter((s) => s !== Scope.SCOPE_UNSPECIFIED);
    if (scopes.length === 0 || scopes.some((s) => !KNOWN_SCOPES.has(s))) {
      throw MomaError.invalidArgument('give at least one scope: route, agents or admin', { field: 'scopes' });
    }
    if (req.name.length > 128) throw MomaError.invalidArgument('name must be at most 128 characters', { field: 'name' });
    checkLimits(req.limits, 'limits');
    const secret = SECRET_PREFIX + randomBytes(24).toString('base64url');
    const key: ApiKey = { id: `key_${randomBytes(8).toString('hex')}`, tenant, scopes, name: req.name, createdAtMs: Date.now(), limits: hasLimits(req.limits) ? req.limits : undefined };
    const written = await this.#store.compareAndSet(API_KEY_PREFIX + secretDigest(secret).toString('hex'), ApiKey.toJSON(key), 0);
    if (!written) throw MomaError.internal('key collision; try again');
    return { key, secret };
  }

  async list(tenant: string): Promise<ListKeysResponse> {
    const rows = await this.#store.list<unknown>(API_KEY_PREFIX);
    const keys = rows.map((r) => ApiKey.fromJSON(r.value)).filter((k) => k.id && (!tenant || k.tenant === tenant));
    return { keys: keys.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
  }

  async revoke(id: string): Promise<RevokeKeyResponse> {
    if (!id) throw MomaError.invalidArgument('revoke needs the key id', { field: 'id' });
    const rows = await this.#store.list<unknown>(API_KEY_PREFIX);
    const row = rows.find((r) => ApiKey.fromJSON(r.value).id === id);
    return { revoked: row ? await this.#store.delete(row.key) : false };
  }

  async verify(sha256: Uint8Array): Promise<VerifyKeyResponse> {
    if (sha256.length !== 32) throw MomaError.invalidArgument('secret_sha256 must be 32 bytes', { field: 'secret_sha256' });
    const found = await this.#store.get<unknown>(API_KEY_PREFIX + Buffer.from(sha256).toString('hex'));
    if (!found) return { valid: false, key: undefined, tenantLimits: undefined };
    const key = ApiKey.fromJSON(found.value);
    return { valid: true, key, tenantLimits: await this.#limits.tenantLimits(key.tenant) };
  }
}
