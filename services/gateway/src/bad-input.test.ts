// Bad input on both doors of a gateway over stand-in stages: every malformed request is a 4xx or an
// INVALID_ARGUMENT-class gRPC status with a message, never a 5xx, INTERNAL, UNAVAILABLE or a hang; a body that
// stalls after its headers is closed in seconds; gRPC's size limit is HTTP's.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { RouteOptions, RouterClient, type ExecuteRequest, type ExecuteResponse } from '@moma/proto';
import { serveLlmOnlyStages, startStandInGateway, type StandInGateway } from './test-support.ts';

let standIn: StandInGateway;
let httpUrl = '';
let client: RouterClient;

const answer = (call: grpc.ServerWritableStream<ExecuteRequest, ExecuteResponse>) => {
  call.write({ delta: 'ok', agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} } as ExecuteResponse);
  call.end();
};

beforeAll(async () => {
  standIn = await startStandInGateway((b) => serveLlmOnlyStages(b), { execute: answer }, { GATEWAY_BODY_TIMEOUT_MS: 400 });
  httpUrl = standIn.gw.httpUrl;
  client = new RouterClient(standIn.gw.grpcAddr, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  await standIn?.stop();
});

function unaryRaw(method: string, bytes: Buffer): Promise<grpc.ServiceError | undefined> {
  const raw = new grpc.Client(standIn.gw.grpcAddr, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    raw.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, bytes, { deadline: Date.now() + 5000 }, (err) => {
      raw.close();
      resolve(err ?? undefined);
    });
  });
}

const route = (req: Parameters<RouterClient['route']>[0]): Promise<grpc.ServiceError | undefined> =>
  new Promise((resolve) => client.route(req, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => resolve(err ?? undefined)));

describe('gateway bad input - gRPC', () => {
  it('gateway bad input - bytes that are not a request are INVALID_ARGUMENT, not INTERNAL', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99, 0x01, 0x02]);
    for (const method of ['/moma.v1.Router/Route', '/moma.v1.Router/CreateSession', '/moma.v1.AgentRegistry/ListAgents']) {
      const err = await unaryRaw(method, garbage);
      expect(err?.code, method).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details, method).toMatch(/not a valid/);
    }
  });

  it('gateway bad input - an oversized tenant is INVALID_ARGUMENT at once', async () => {
    const t0 = Date.now();
    const err = await route({ sessionId: '', messages: [{ role: 'user', content: 'hi' }], options: RouteOptions.fromPartial({ tenant: 't'.repeat(50_000) }), switchTo: '' });
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/tenant/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('gateway bad input - a message over the body limit is RESOURCE_EXHAUSTED, as HTTP answers 413', async () => {
    const err = await route({ sessionId: '', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }], switchTo: '' });
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const res = await fetch(`${httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }),
    });
    expect(res.status).toBe(413);
  });
});

describe('gateway bad input - HTTP', () => {
  it('gateway bad input - a body that stalls after its headers is answered 408 and closed within seconds', async () => {
    const { port, hostname } = new URL(httpUrl);
    const t0 = Date.now();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"messages":`);
      });
      let got = '';
      socket.on('data', (d) => (got += d.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('still open after 10 s'));
      }, 10_000).unref();
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(reply).toMatch(/^HTTP\/1.1 408/);
  });

  it('gateway bad input - a body nested 5,000 deep is a 400, not a stack overflow', async () => {
    for (const path of ['/v1/chat/completions', '/v1/messages', '/v1/agents']) {
      const res = await fetch(`${httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"messages":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe('request body is nested deeper than 64 levels');
    }
  });

  it('gateway bad input - 5,000 malformed requests get 4xx answers with a message, none ≥ 500', async () => {
    const valid = { model: 'moma/auto', messages: [{ role: 'user', content: 'What is 2+2?' }] };
    // A small seeded generator, so a failure can be replayed.
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const weird: unknown[] = [null, true, 0, -1, 1e308, '', 'x'.repeat(300), [], {}, [[[]]], { $ref: '#' }, '\u0000', '\ud800', NaN];
    const paths = ['/v1/chat/completions', '/v1/messages', '/v1/responses', '/v1/sessions', '/v1/route'];
    const mutate = (): string => {
      const kind = Math.floor(rnd() * 6);
      if (kind === 0) return JSON.stringify(valid).slice(0, Math.floor(rnd() * 60)); // truncated
      if (kind === 1) return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))).toString('latin1');
      const body: Record<string, unknown> = structuredClone(valid);
      const field = pick(['model', 'messages', 'stream', 'max_tokens', 'temperature', 'tools', 'response_format', 'moma', 'n', 'stop', 'input', 'system']);
      if (kind === 2) body[field] = pick(weird);
      else if (kind === 3) body.messages = [{ role: pick(['user', 'tool', 'assistant', 'nobody', 7]), content: pick(weird) }];
      else if (kind === 4) body.messages = [{ role: 'user', content: [{ type: pick(['text', 'image_url', 'video', 3]), text: pick(weird), image_url: { url: pick(['ftp://x', 'javascript:1', '', 7]) } }] }];
      else body.moma = { mode: pick(weird), tenant: pick(weird), allowed_models: pick(weird), max_cost_usd: pick(weird) };
      return JSON.stringify(body);
    };
    const statuses = new Map<number, number>();
    const over: string[] = [];
    const deadline = Date.now() + 60_000;
    for (let i = 0; i < 5000 && Date.now() < deadline; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          const path = pick(paths);
          const body = mutate();
          const res = await fetch(`${httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) over.push(`${res.status} ${path} ${body.slice(0, 200)} → ${text.slice(0, 200)}`);
          else if (res.status >= 400) expect(JSON.parse(text).error.message, `${path} ${body}`).toBeTruthy();
        }),
      );
    }
    expect(over.slice(0, 5)).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(5000);
    expect([...statuses.keys()].some((s) => s >= 400 && s < 500)).toBe(true);
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);
  }, 90_000);
});
