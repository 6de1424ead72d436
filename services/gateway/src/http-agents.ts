// Agent registry over HTTP: thin translation to the orchestrator stage's registry rpcs (agents.proto messages).
import type { FastifyInstance } from 'fastify';
import { MomaError } from '@moma/platform';
import type { Stages } from './decide.ts';
import { tenantFor, type Principal } from './auth.ts';
import { z } from 'zod';
import { agentJson } from './present.ts';

const tenants = z.array(z.string().min(1).max(128)).max(256);

const registerBody = z
  .object({
    card_url: z.url({ message: 'must be an http(s) URL' }).optional(),
    card: z.record(z.string(), z.unknown()).optional(),
    card_json: z.string().optional(),
    id: z.string().max(128).optional(),
    tenants: tenants.optional(),
    category: z.string().max(128).optional(),
  })
  .refine((b) => [b.card_url, b.card, b.card_json].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of card_url, card or card_json',
  });

const listQuery = z.object({
  tenant: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  page_token: z.string().max(256).optional(),
});

const updateBody = z.object({
  card: z.record(z.string(), z.unknown()).optional(),
  card_json: z.string().optional(),
  tenants: tenants.optional(),
  healthy: z.boolean().optional(),
});

export function objectBody(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw MomaError.invalidArgument('request body must be a JSON object');
  return body;
}

/** A key acting for a tenant registers agents for that tenant alone; only the admin key names tenants (or none: all). */
export function ownTenants(caller: Principal | undefined, requested: readonly string[]): string[] {
  return caller?.tenant !== undefined ? [caller.tenant] : [...requested];
}

/** Registration may fetch and parse a card: it gets longer than the bus's default deadline. */
export const REGISTRY_WRITE_TIMEOUT = { timeoutMs: 5000 };

export function registerAgentRoutes(app: FastifyInstance, orchestrator: Stages['orchestrator']): void {
  app.post('/v1/agents', async (req, reply) => {
    const b = registerBody.parse(objectBody(req.body));
    const cardJson = b.card !== undefined ? JSON.stringify(b.card) : b.card_json;
    const res = await orchestrator.registerAgent(
      {
        ...(b.card_url !== undefined ? { cardUrl: b.card_url } : { cardJson }),
        id: b.id ?? '',
        tenants: ownTenants(req.principal, b.tenants ?? []),
        owner: req.principal?.tenant ?? '',
        category: b.category ?? '',
      },
      REGISTRY_WRITE_TIMEOUT,
    );
    if (!res.agent) throw MomaError.internal('orchestrator returned no agent');
    void reply.code(201);
    return { agent: agentJson(res.agent) };
  });

  app.patch<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const b = updateBody.parse(objectBody(req.body));
    const res = await orchestrator.updateAgent(
      {
        id: req.params.id,
        owner: req.principal?.tenant ?? '',
        cardJson: b.card !== undefined ? JSON.stringify(b.card) : (b.card_json ?? ''),
        tenants: ownTenants(req.principal, b.tenants ?? []),
        setTenants: b.tenants !== undefined,
        healthy: b.healthy,
      },
      REGISTRY_WRITE_TIMEOUT,
    );
    if (!res.agent) throw MomaError.internal('orchestrator returned no agent');
    return { agent: agentJson(res.agent) };
  });

  app.delete<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const res = await orchestrator.removeAgent({ id: req.params.id, owner: req.principal?.tenant ?? '' });
    if (!res.removed) throw MomaError.notFound(`unknown agent ${req.params.id}`);
    return { id: req.params.id, removed: true };
  });

  // One page per call (`limit`, default 100; `page_token` from the previous page's `next_page_token`).
  app.get<{ Querystring: Record<string, unknown> }>('/v1/agents', async (req) => {
    const q = listQuery.parse(req.query);
    const res = await orchestrator.listAgents({ tenant: tenantFor(req.principal, q.tenant ?? ''), knownVersion: 0, pageSize: q.limit ?? 0, pageToken: q.page_token ?? '' });
    return { object: 'list', data: res.agents.map(agentJson), has_more: res.nextPageToken !== '', next_page_token: res.nextPageToken || null };
  });
}
