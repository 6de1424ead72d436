// `moma keys create|list|revoke`: the gateway's admin API (/v1/admin/keys) from the command line. The admin key is
// read from $MOMA_ADMIN_KEY only (a flag would show in `ps` and shell history); the gateway from --url or $MOMA_URL.
import { parseArgs } from 'node:util';

const USAGE = `usage: moma keys <create|list|revoke> [options]

  moma keys create --tenant T --scopes route[,agents][,admin] [--name LABEL] [LIMITS]
                   prints the key's id and its secret; the secret is shown this once
  moma keys list [--tenant T]
  moma keys revoke ID
  moma keys limits --tenant T [LIMITS]
                   sets the tenant's limits, shared by all its keys (no LIMITS = none)

  LIMITS: --rpm N (requests/min)  --tpm N (tokens/min)  --budget USD [--period day|month]
          --cost-mode-at SHARE (route in cost mode from this share of the budget; default 0.8)

  --url URL   the gateway (default: $MOMA_URL, else http://127.0.0.1:8080)
  The admin key comes from $MOMA_ADMIN_KEY.`;

export interface KeysIo {
  env?: Record<string, string | undefined>;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

interface KeyJson {
  id: string;
  tenant: string;
  scopes: string[];
  name: string;
  created_at: number;
  limits?: Record<string, unknown> | null;
  secret?: string;
}

/** Exit code: 0 done, 1 failed (gateway unreachable, refused), 2 usage error. */
export async function runKeys(argv: string[], io: KeysIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.out ?? ((l: string) => console.log(l));
  const err = io.err ?? ((l: string) => console.error(l));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        scopes: { type: 'string' },
        name: { type: 'string' },
        url: { type: 'string' },
        rpm: { type: 'string' },
        tpm: { type: 'string' },
        budget: { type: 'string' },
        period: { type: 'string' },
        'cost-mode-at': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [action, ...rest] = positionals;
  if (o.help) {
    out(USAGE);
    return 0;
  }
  const adminKey = env.MOMA_ADMIN_KEY;
  if (!adminKey) {
    err('moma keys: set MOMA_ADMIN_KEY to the gateway\'s admin key');
    return 2;
  }
  const base = (o.url ?? env.MOMA_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = { error: { message: text.slice(0, 200) } };
    }
    return { status: res.status, json };
  };
  const failed = (r: { status: number; json: any }) => {
    err(`moma keys: the gateway answered ${r.status}: ${r.json?.error?.message ?? 'no message'}`);
    return 1;
  };
  // The limit flags as the admin API's `limits` (numbers checked by the gateway, which names a bad field).
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const limitFlags = {
    ...(o.rpm !== undefined ? { requests_per_minute: num(o.rpm) } : {}),
    ...(o.tpm !== undefined ? { tokens_per_minute: num(o.tpm) } : {}),
    ...(o.budget !== undefined ? { budget_usd: num(o.budget) } : {}),
    ...(o.period !== undefined ? { budget_period: o.period } : {}),
    ...(o['cost-mode-at'] !== undefined ? { cost_mode_at: num(o['cost-mode-at']) } : {}),
  };
  const limits = Object.keys(limitFlags).length > 0 ? limitFlags : undefined;
  const limitsText = (l: Record<string, unknown> | null | undefined) =>
    l ? Object.entries(l).map(([k, v]) => `${k}=${String(v)}`).join(' ') : 'none';
  try {
    if (action === 'limits' && rest.length === 0) {
      if (!o.tenant) {
        err(`moma keys limits needs --tenant\n${USAGE}`);
        return 2;
      }
      const r = await call('PUT', `/v1/admin/tenants/${encodeURIComponent(o.tenant)}/limits`, { limits: limits ?? null });
      if (r.status !== 200) return failed(r);
      out(`tenant  ${o.tenant}`);
      out(`limits  ${limitsText(r.json.limits)}`);
      return 0;
    }
    if (action === 'create' && rest.length === 0) {
      if (!o.tenant || !o.scopes) {
        err(`moma keys create needs --tenant and --scopes\n${USAGE}`);
        return 2;
      }
      const scopes = o.scopes.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await call('POST', '/v1/admin/keys', { tenant: o.tenant, scopes, ...(o.name ? { name: o.name } : {}), ...(limits ? { limits } : {}) });
      if (r.status !== 201) return failed(r);
      const k = r.json as KeyJson;
      out(`id      ${k.id}`);
      out(`tenant  ${k.tenant}`);
      out(`scopes  ${k.scopes.join(',')}`);
      out(`limits  ${limitsText(k.limits)}`);
      out(`secret  ${k.secret}`);
      out('The secret is shown this once; only its hash is stored.');
      return 0;
    }
    if (action === 'list' && rest.length === 0) {
      const r = await call('GET', `/v1/admin/keys${o.tenant ? `?tenant=${encodeURIComponent(o.tenant)}` : ''}`);
      if (r.status !== 200) return failed(r);
      const keys = r.json.data as KeyJson[];
      out(['id', 'tenant', 'scopes', 'created', 'name'].join('\t'));
      for (const k of keys) out([k.id, k.tenant, k.scopes.join(','), new Date(k.created_at * 1000).toISOString(), k.name].join('\t'));
      return 0;
    }
    if (action === 'revoke' && rest.length === 1) {
      const r = await call('DELETE', `/v1/admin/keys/${encodeURIComponent(rest[0]!)}`);
      if (r.status !== 200) return failed(r);
      out(`revoked ${rest[0]}`);
      return 0;
    }
  } catch (e) {
    err(`moma keys: cannot reach the gateway at ${base}: ${(e as Error).message}`);
    return 1;
  }
  err(USAGE);
  return 2;
}
