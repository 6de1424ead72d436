// Authentication and the admin API on the HTTP door. With MOMA_ADMIN_KEY set, every route but the health probes needs
// a key (401 without one, 403 when it lacks the route's scope); the tenant comes from the key (see auth.ts).
// Admin API: POST /v1/admin/keys {tenant, scopes, name, limits} → the key and its secret (shown once); GET
// /v1/admin/keys [?tenant=]; DELETE /v1/admin/keys/:id; PUT /v1/admin/tenants/:tenant/limits {limits}. Any key:
// GET /v1/usage, its tenant's (and its own) requests, tokens and spend against their limits.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { costModeAt } from '@moma/core/rules';
import { Code, MomaError, type StageClient } from '@moma/platform';
import { BudgetPeriod, Scope, type ApiKey, type KeysStageDefinition, type Limits, type UsageTotals } from '@moma/proto';
import { requireScope, SCOPE_NAMES, scopeName, tenantFor, type Auth, type Principal } from './auth.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when authentication is on. */
    principal?: Principal;
  }
}

const OPEN = new Set(['/healthz', '/readyz']);

/** The scope a route needs: the admin API admin, agent changes agents, everything else route. */
function scopeOf(req: FastifyRequest): Scope {
  const url = req.routeOptions.url ?? req.url;
  if (url.startsWith('/v1/admin/') || url === '/ui' || url.startsWith('/ui/')) return Scope.SCOPE_ADMIN;
  if (url.startsWith('/v1/agents') && req.method !== 'GET') return Scope.SCOPE_AGENTS;
  return Scope.SCOPE_ROUTE;
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/** `Basic base64(user:key)` → `Bearer key` (the user name is ignored); anything else unchanged. */
function basicAsBearer(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Basic ')) return authorization;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? authorization : `Bearer ${decoded.slice(colon + 1)}`;
}

export function registerAuth(app: FastifyInstance, auth: Auth): void {
  app.decorateRequest('principal', undefined);
  if (!auth.enabled) return;
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url ?? '';
    if (OPEN.has(route)) return;
    // A browser opening /ui cannot send a Bearer header: it asks for a password (HTTP Basic, any user name, the API
    // key as the password), and then sends it with every request of the page.
    const page = route === '/ui' || route.startsWith('/ui/') || (route === '/v1/admin/dashboard' && header(req, 'authorization')?.startsWith('Basic ') === true);
    try {
      req.principal = await auth.principal(basicAsBearer(header(req, 'authorization')), header(req, 'x-api-key'));
    } catch (err) {
      void reply.header('www-authenticate', page ? 'Basic realm="moma", charset="UTF-8"' : 'Bearer realm="moma"');
      throw err;
    }
    requireScope(req.principal, scopeOf(req));
  });
}

const limitsBody = z
  .object({
    requests_per_minute: z.number().int().nonnegative().optional(),
    tokens_per_minute: z.number().int().nonnegative().optional(),
    budget_usd: z.number().nonnegative().finite().optional(),
    budget_period: z.enum(['day', 'month']).optional(),
    cost_mode_at: z.number().gt(0).max(1).optional(),
  })
  .strict();

type LimitsBody = z.infer<typeof limitsBody>;

const limitsFrom = (b: LimitsBody | undefined): Limits | undefined =>
  b && {
    requestsPerMinute: b.requests_per_minute ?? 0,
    tokensPerMinute: b.tokens_per_minute ?? 0,
    budgetUsd: b.budget_usd ?? 0,
    budgetPeriod: b.budget_period === 'day' ? BudgetPeriod.BUDGET_PERIOD_DAY : BudgetPeriod.BUDGET_PERIOD_MONTH,
    costModeAt: b.cost_mode_at ?? 0,
  };

const limitsJson = (l: Limits | undefined) =>
  l
    ? {
        requests_per_minute: Number(l.requestsPerMinute),
        tokens_per_minute: Number(l.tokensPerMinute),
        budget_usd: l.budgetUsd,
        budget_period: l.budgetPeriod === BudgetPeriod.BUDGET_PERIOD_DAY ? 'day' : 'month',
        cost_mode_at: costModeAt(l),
      }
    : null;

const usageJson = (u: UsageTotals | undefined) =>
  u && {
    requests_per_minute: u.requestsPerMinute,
    tokens_per_minute: u.tokensPerMinute,
    spent_usd_day: u.spentUsdDay,
    spent_usd_month: u.spentUsdMonth,
  };

const createBody = z.object({
  tenant: z.string().min(1).max(128),
  scopes: z.array(z.enum(Object.keys(SCOPE_NAMES) as [string, ...string[]])).min(1),
  name: z.string().max(128).optional(),
  limits: limitsBody.optional(),
});

const keyJson = (k: ApiKey) => ({
  id: k.id,
  object: 'api_key',
  tenant: k.tenant,
  scopes: k.scopes.map(scopeName),
  name: k.name,
  created_at: Math.floor(k.createdAtMs / 1000),
  limits: limitsJson(k.limits),
});

export function registerAdminRoutes(app: FastifyInstance, keys: StageClient<typeof KeysStageDefinition>, auth: Auth): void {
  const adminOnly = () => {
    if (!auth.enabled) throw new MomaError(Code.FAILED_PRECONDITION, 'the admin API needs MOMA_ADMIN_KEY to be set');
  };
  app.post('/v1/admin/keys', async (req, reply) => {
    adminOnly();
    const b = createBody.parse(req.body ?? {});
    const res = await keys.createKey({ tenant: b.tenant, scopes: b.scopes.map((s) => SCOPE_NAMES[s]!), name: b.name ?? '', limits: limitsFrom(b.limits) });
    void reply.code(201);
    return { ...keyJson(res.key!), secret: res.secret };
  });
  app.get<{ Querystring: { tenant?: string } }>('/v1/admin/keys', async (req) => {
    adminOnly();
    const res = await keys.listKeys({ tenant: typeof req.query.tenant === 'string' ? req.query.tenant : '' });
    return { object: 'list', data: res.keys.map(keyJson) };
  });
  app.delete<{ Params: { id: string } }>('/v1/admin/keys/:id', async (req) => {
    adminOnly();
    const res = await keys.revokeKey({ id: req.params.id });
    if (!res.revoked) throw MomaError.notFound(`unknown key ${req.params.id}`);
    return { id: req.params.id, object: 'api_key', revoked: true };
  });
  app.put<{ Params: { tenant: string } }>('/v1/admin/tenants/:tenant/limits', async (req) => {
    adminOnly();
    const b = z.object({ limits: limitsBody.nullable() }).strict().parse(req.body ?? {});
    const res = await keys.setTenantLimits({ tenant: req.params.tenant, limits: limitsFrom(b.limits ?? undefined) });
    return { object: 'tenant_limits', tenant: req.params.tenant, limits: limitsJson(res.limits) };
  });
  // The caller's own usage: a key sees its tenant's and its own; the admin key names the tenant (?tenant=).
  app.get<{ Querystring: { tenant?: string } }>('/v1/usage', async (req) => {
    const p = req.principal;
    const tenant = tenantFor(p, typeof req.query.tenant === 'string' ? req.query.tenant : '');
    const res = await keys.getUsage({ tenant, keyId: p?.keyId ?? '' });
    return {
      object: 'usage',
      tenant,
      usage: usageJson(res.tenant),
      limits: limitsJson(res.tenantLimits),
      ...(p?.keyId ? { key: { id: p.keyId, usage: usageJson(res.key), limits: limitsJson(p.keyLimits) } } : {}),
    };
  });
}
