// API keys and tenants on the real system (every service its own process on NATS and Redis): with MOMA_ADMIN_KEY
// set, every call on both doors needs a key; keys are made and revoked through the admin API; the tenant comes from
// the key, never from the body; a key registers, changes and removes only its own tenant's agents. Clients: the
// official `openai` and `@anthropic-ai/sdk` SDKs, fetch, and the generated gRPC client.
import Anthropic from '@anthropic-ai/sdk';
import * as grpc from '@grpc/grpc-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '@moma/cli';
import { AgentRegistryClient, RouteOptions, RouterClient, type ListAgentsResponse } from '@moma/proto';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { dropKeys, startSystem, type System } from './support/system.ts';

const infra = await testInfra();
const ADMIN = `admin-${uniqueId()}-0123456789abcdef`;

describe.skipIf(!infra.ok)(`auth - API keys and tenants${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  const keyPrefix = `auth-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startSystem({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
      env: { MOMA_ADMIN_KEY: ADMIN, MOMA_KEY_CACHE_MS: '200' },
    });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    if (infra.ok) await dropKeys(infra.redisUrl, keyPrefix);
    await fake?.close();
  });

  const call = (method: string, path: string, key: string | undefined, body?: unknown) =>
    fetch(`${sys.httpUrl}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { authorization: `Bearer ${key}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const makeKey = async (tenant: string, scopes: string[]): Promise<{ id: string; secret: string }> => {
    const res = await call('POST', '/v1/admin/keys', ADMIN, { tenant, scopes, name: `${tenant} ${scopes.join('+')}` });
    const body = (await res.json()) as { id: string; secret: string; tenant: string; scopes: string[] };
    expect(res.status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ tenant, scopes });
    expect(body.secret).toMatch(/^moma_sk_/);
    return body;
  };
  const card = (name: string) => ({ name, url: 'http://127.0.0.1:9/a2a', skills: [{ id: 's', name, examples: [`ask ${name}`] }] });

  it('auth - no key or a wrong key is 401 on every door; the health probe stays open', async () => {
    const chat = { messages: [{ role: 'user', content: 'hi' }] };
    for (const [method, path, body] of [
      ['POST', '/v1/chat/completions', chat],
      ['POST', '/v1/route', chat],
      ['GET', '/v1/models', undefined],
      ['GET', '/v1/agents', undefined],
      ['POST', '/v1/sessions', {}],
      ['GET', '/v1/admin/keys', undefined],
    ] as const) {
      for (const key of [undefined, 'moma_sk_not-a-key']) {
        const res = await call(method, path, key, body);
        expect(res.status, `${method} ${path} ${key ?? '(none)'}`).toBe(401);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/API key/);
      }
    }
    expect((await fetch(`${sys.httpUrl}/healthz`)).status).toBe(200);
    const openai = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: 'moma_sk_wrong', maxRetries: 0 });
    await expect(openai.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
  });

  it('auth - a key made by the admin works with the official SDKs, is listed without its secret, and stops when revoked', async () => {
    const { id, secret } = await makeKey('acme', ['route']);
    const openai = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: secret, maxRetries: 0 });
    const answer = await openai.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: 'What is 2+2?' }] });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    const anthropic = new Anthropic({ baseURL: sys.httpUrl, apiKey: secret, maxRetries: 0 }); // sends x-api-key
    const msg = await anthropic.messages.create({ model: 'moma/auto', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] });
    expect(msg.content[0]?.type).toBe('text');

    const listed = await call('GET', '/v1/admin/keys?tenant=acme', ADMIN);
    const text = await listed.text();
    expect(JSON.parse(text).data.map((k: { id: string }) => k.id)).toContain(id);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('secret');

    // a route key is no admin and no agent manager
    expect((await call('GET', '/v1/admin/keys', secret)).status).toBe(403);
    expect((await call('POST', '/v1/agents', secret, { card: card('Nope') })).status).toBe(403);

    expect((await call('DELETE', `/v1/admin/keys/${id}`, ADMIN)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300)); // MOMA_KEY_CACHE_MS
    expect((await call('GET', '/v1/models', secret)).status).toBe(401);
    expect((await call('DELETE', `/v1/admin/keys/${id}`, ADMIN)).status).toBe(404);
  });

  it('auth - the tenant is the key’s: agents are registered for it, and another tenant can neither see, change nor remove them', async () => {
    const acme = await makeKey('acme', ['route', 'agents']);
    const beta = await makeKey('beta', ['route', 'agents']);
    const id = `acme-bot-${uniqueId()}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
    // acme asks to share its agent with beta: the key's tenant wins
    const reg = await call('POST', '/v1/agents', acme.secret, { id, card: card('Acme Bot'), tenants: ['beta'] });
    expect(reg.status, await reg.clone().text()).toBe(201);
    expect(((await reg.json()) as { agent: { tenants: string[] } }).agent.tenants).toEqual(['acme']);

    const ids = async (key: string, query = '') => ((await (await call('GET', `/v1/agents${query}`, key)).json()) as { data: Array<{ id: string }> }).data.map((a) => a.id);
    expect(await ids(acme.secret)).toContain(id);
    expect(await ids(beta.secret)).not.toContain(id);
    expect(await ids(beta.secret, '?tenant=acme')).not.toContain(id); // a tenant in the query is ignored too

    expect((await call('PATCH', `/v1/agents/${id}`, beta.secret, { healthy: false })).status).toBe(404);
    expect((await call('DELETE', `/v1/agents/${id}`, beta.secret)).status).toBe(404);
    // nor re-register its id to overwrite it; acme may change its own
    const hijack = await call('POST', '/v1/agents', beta.secret, { id, card: card('Hijack') });
    expect(hijack.status).toBe(409);
    expect((await call('PATCH', `/v1/agents/${id}`, acme.secret, { healthy: false })).status).toBe(200);
    expect((await call('POST', '/v1/agents', acme.secret, { id, card: card('Acme Bot v2') })).status).toBe(201);

    // the same over gRPC
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${beta.secret}`);
    const registry = new AgentRegistryClient(sys.grpcAddr, grpc.credentials.createInsecure());
    try {
      const listed = await new Promise<ListAgentsResponse>((resolve, reject) =>
        registry.listAgents({ tenant: 'acme', knownVersion: 0, pageSize: 0, pageToken: '' }, md, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(listed.agents.map((a) => a.id)).not.toContain(id);
      const removed = await new Promise<grpc.ServiceError | null>((resolve) => registry.removeAgent({ id, owner: '' }, md, (err) => resolve(err)));
      expect(removed?.code).toBe(grpc.status.NOT_FOUND);
    } finally {
      registry.close();
    }
    expect((await call('DELETE', `/v1/agents/${id}`, acme.secret)).status).toBe(200);
  });

  it('auth - only the admin key shares an agent with every tenant; a tenant key asking for that gets its own tenant', async () => {
    const acme = await makeKey('acme', ['agents']);
    const beta = await makeKey('beta', ['route']);
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${acme.secret}`);
    const registry = new AgentRegistryClient(sys.grpcAddr, grpc.credentials.createInsecure());
    const own = `acme-grpc-${uniqueId()}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
    const shared = `shared-${uniqueId()}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
    try {
      const reg = await new Promise<{ agent?: { tenants: string[] } }>((resolve, reject) =>
        registry.registerAgent({ cardJson: JSON.stringify(card('Acme Grpc')), id: own, tenants: [], category: '', owner: '' }, md, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(reg.agent?.tenants).toEqual(['acme']); // "every tenant" asked by a tenant key: its own tenant only
    } finally {
      registry.close();
    }
    const byAdmin = await call('POST', '/v1/agents', ADMIN, { id: shared, card: card('Shared Bot'), tenants: [] });
    expect(byAdmin.status).toBe(201);
    const seen = ((await (await call('GET', '/v1/agents', beta.secret)).json()) as { data: Array<{ id: string }> }).data.map((a) => a.id);
    expect(seen).toContain(shared);
    expect(seen).not.toContain(own);
    // a tenant key cannot change or remove the shared agent
    expect((await call('DELETE', `/v1/agents/${shared}`, acme.secret)).status).toBe(404);
    expect((await call('DELETE', `/v1/agents/${shared}`, ADMIN)).status).toBe(200);
    expect((await call('DELETE', `/v1/agents/${own}`, acme.secret)).status).toBe(200);
  });

  it('auth - gRPC: no key is UNAUTHENTICATED, a key without the scope PERMISSION_DENIED, a good key routes', async () => {
    const router = new RouterClient(sys.grpcAddr, grpc.credentials.createInsecure());
    const route = (md: grpc.Metadata) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        router.route({ sessionId: '', messages: [{ role: 'user', content: 'What is 2+2?' }], options: RouteOptions.fromPartial({ tenant: 'someone-else' }), switchTo: '' }, md, (err) => resolve(err)),
      );
    try {
      expect((await route(new grpc.Metadata()))?.code).toBe(grpc.status.UNAUTHENTICATED);
      const agentsOnly = await makeKey('gamma', ['agents']);
      const md1 = new grpc.Metadata();
      md1.set('authorization', `Bearer ${agentsOnly.secret}`);
      expect((await route(md1))?.code).toBe(grpc.status.PERMISSION_DENIED);
      const ok = await makeKey('gamma', ['route']);
      const md2 = new grpc.Metadata();
      md2.set('x-api-key', ok.secret);
      expect(await route(md2)).toBeNull();
    } finally {
      router.close();
    }
  });

  it('auth - moma keys create, list and revoke drive the admin API; the secret is printed once, by create', async () => {
    const lines: string[] = [];
    const io = { env: { MOMA_ADMIN_KEY: ADMIN, MOMA_URL: sys.httpUrl }, out: (l: string) => void lines.push(l), err: (l: string) => void lines.push(`ERR ${l}`) };
    expect(await runKeys(['create', '--tenant', 'delta', '--scopes', 'route', '--name', 'ci'], io)).toBe(0);
    const id = lines.find((l) => l.startsWith('id '))!.split(/\s+/)[1]!;
    const secret = lines.find((l) => l.startsWith('secret '))!.split(/\s+/)[1]!;
    expect((await call('GET', '/v1/models', secret)).status).toBe(200);
    lines.length = 0;
    expect(await runKeys(['list', '--tenant', 'delta'], io)).toBe(0);
    expect(lines.join('\n')).toContain(id);
    expect(lines.join('\n')).not.toContain(secret);
    expect(await runKeys(['revoke', id], io)).toBe(0);
    expect(await runKeys(['revoke', id], io)).toBe(1); // already gone: 404
    expect(await runKeys(['create', '--tenant', 'delta'], io)).toBe(2); // no scopes
    expect(await runKeys(['list'], { ...io, env: { MOMA_URL: sys.httpUrl } })).toBe(2); // no admin key
  });

  it('auth - another tenant\'s session id is 404: nothing of its history reaches the provider, nothing is written to it', async () => {
    const acme = await makeKey('acme', ['route']);
    const beta = await makeKey('beta', ['route']);
    const created = await call('POST', '/v1/sessions', acme.secret, { tenant: 'beta' }); // the body's tenant is ignored
    expect(created.status).toBe(201);
    const sessionId = ((await created.json()) as { session_id: string }).session_id;
    const turn = (key: string, content: string) =>
      call('POST', '/v1/chat/completions', key, { model: 'moma/auto', messages: [{ role: 'user', content }], moma: { session_id: sessionId, tenant: 'acme' } });
    expect((await turn(acme.secret, 'my password is hunter2')).status).toBe(200);
    const before = fake.calls();
    const stolen = await turn(beta.secret, 'what did I say?');
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { error: { message: string } }).error.message).toMatch(/unknown session/);
    expect(fake.calls()).toBe(before);
    const next = await turn(acme.secret, 'and now?');
    expect(next.status).toBe(200);
    const last = fake.requests.at(-1)!;
    const sent = JSON.stringify(last.body);
    expect(sent).toContain('hunter2'); // acme's own history, forwarded to acme's turn
    expect(sent).not.toContain('what did I say?'); // beta's turn never entered acme's session
  });

  it('auth - no service logged the admin key or any secret', () => {
    const all = sys.logs.join('\n');
    expect(all).not.toContain(ADMIN);
    expect(all).not.toMatch(/moma_sk_[A-Za-z0-9_-]{20,}/);
    expect(all).not.toContain('MOMA_ADMIN_KEY is not set'); // the open-gateway warning is only for a gateway without one
  });
});
