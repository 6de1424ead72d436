// Agent registry over HTTP: thin translation to the orchestrator's registry subjects (agents.proto messages).
import type { FastifyInstance } from 'fastify';
import type { Bus } from '@moma/platform';
import { MomaError, Subjects } from '@moma/platform';
import {
  ListAgentsRequest,
  ListAgentsResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  RemoveAgentRequest,
  RemoveAgentResponse,
  UpdateAgentRequest,
  UpdateAgentResponse,
} from '@moma/proto';
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

const updateBody = z.object({
  card: z.record(z.string(), z.unknown()).optional(),
  card_json: z.string().optional(),
  tenants: tenants.optional(),
  healthy: z.boolean().optional(),
});

function objectBody(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw MomaError.invalidArgument('request body must be a JSON object');
  return body;
}

export function registerAgentRoutes(app: FastifyInstance, bus: Bus): void {
  app.post('/v1/agents', async (req, reply) => {
    const b = registerBody.parse(objectBody(req.body));
    const cardJson = b.card !== undefined ? JSON.stringify(b.card) : b.card_json;
    const res = await bus.request(
      Subjects.registryRegister,
      {
        ...(b.card_url !== undefined ? { cardUrl: b.card_url } : { cardJson }),
        id: b.id ?? '',
        tenants: b.tenants ?? [],
        category: b.category ?? '',
      },
      RegisterAgentRequest,
      RegisterAgentResponse,
      { timeoutMs: 5000 },
    );
    if (!res.agent) throw MomaError.internal('orchestrator returned no agent');
    void reply.code(201);
    return { agent: agentJson(res.agent) };
  });

  app.patch<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const b = updateBody.parse(objectBody(req.body));
    const res = await bus.request(
      Subjects.registryUpdate,
      {
        id: req.params.id,
        cardJson: b.card !== undefined ? JSON.stringify(b.card) : (b.card_json ?? ''),
        tenants: b.tenants ?? [],
        setTenants: b.tenants !== undefined,
        healthy: b.healthy,
      },
      UpdateAgentRequest,
      UpdateAgentResponse,
      { timeoutMs: 5000 },
    );
    if (!res.agent) throw MomaError.internal('orchestrator returned no agent');
    return { agent: agentJson(res.agent) };
  });

  app.delete<{ Params: { id: string } }>('/v1/agents/:id', async (req) => {
    const res = await bus.request(Subjects.registryRemove, { id: req.params.id }, RemoveAgentRequest, RemoveAgentResponse);
    if (!res.removed) throw MomaError.notFound(`unknown agent ${req.params.id}`);
    return { id: req.params.id, removed: true };
  });

  app.get<{ Querystring: { tenant?: string } }>('/v1/agents', async (req) => {
    const res = await bus.request(Subjects.registryList, { tenant: req.query.tenant ?? '' }, ListAgentsRequest, ListAgentsResponse);
    return { object: 'list', data: res.agents.map(agentJson) };
  });
}
