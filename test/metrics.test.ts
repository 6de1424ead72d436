// Every service, run as its own process on real NATS and Redis, serves Prometheus text on its HEALTH_PORT with the
// request counters and latency histograms of what it handled: one chat through the gateway shows up on all five.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { RouterClient } from '@moma/proto';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { SERVICES, startSystemOnPrivateNats, type ServiceName, type System } from './support/system.ts';

const infra = await testInfra();

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Samples of the Prometheus text format (label values without escaped quotes, which is all MoMA emits). */
function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

describe.skipIf(!infra.ok)(`metrics - /metrics on every service${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  const keyPrefix = `metrics-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
    });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    await fake?.close();
  });

  it('metrics - one chat through the gateway is counted and timed by each of the five services', async () => {
    const res = await fetch(`${sys.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'How many moons does Mars have?' }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await res.text();
    // One gRPC call too, so the gateway's gRPC door is seen on /metrics.
    const router = new RouterClient(sys.grpcAddr, grpc.credentials.createInsecure());
    await new Promise<void>((resolve, reject) => router.listModels({}, (err) => (err ? reject(err) : resolve())));
    router.close();

    const served: Record<ServiceName, (endpoint: string) => boolean> = {
      gateway: (e) => e === 'POST /v1/chat/completions',
      intent: (e) => /^moma\.intent\.\w+$/.test(e),
      scoring: (e) => /^moma\.scoring\.\w+$/.test(e),
      orchestrator: (e) => /^moma\.orchestrator\.\w+$/.test(e),
      executor: (e) => e === 'moma.v1.Executor/Execute',
    };
    for (const name of SERVICES) {
      const health = await fetch(`${sys.healthUrls[name]}/healthz`);
      expect(health.status, `${name} /healthz: ${await health.clone().text()}`).toBe(200);
      await health.text();

      const metrics = await fetch(`${sys.healthUrls[name]}/metrics`);
      expect(metrics.status, `${name} /metrics`).toBe(200);
      expect(metrics.headers.get('content-type'), `${name} /metrics content-type`).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parseSamples(await metrics.text());
      const counted = samples.filter(
        (s) => s.name === 'moma_requests_total' && s.labels.code === 'OK' && served[name](s.labels.endpoint ?? '') && s.value >= 1,
      );
      expect(counted.length, `${name}: moma_requests_total{code="OK"} for an endpoint it served; got:\n` +
        samples.filter((s) => s.name === 'moma_requests_total').map((s) => JSON.stringify(s)).join('\n')).toBeGreaterThan(0);
      for (const c of counted) {
        expect(c.labels.service, `${name}: service label`).toBe(name);
        const timed = samples.find(
          (s) => s.name === 'moma_request_duration_seconds_count' && s.labels.endpoint === c.labels.endpoint && s.value >= 1,
        );
        expect(timed, `${name}: moma_request_duration_seconds for ${c.labels.endpoint}`).toBeDefined();
        expect(samples.some((s) => s.name === 'moma_request_duration_seconds_bucket' && s.labels.endpoint === c.labels.endpoint)).toBe(true);
      }
      // Node process defaults are on every registry.
      expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total'), `${name}: default metrics`).toBe(true);
    }

    const gateway = parseSamples(await (await fetch(`${sys.healthUrls.gateway}/metrics`)).text());
    expect(
      gateway.some((s) => s.name === 'moma_requests_total' && s.labels.endpoint === 'moma.v1.Router/ListModels' && s.labels.code === 'OK'),
      'gateway gRPC ListModels counted',
    ).toBe(true);
  });

  it('metrics - an HTTP error is counted with its code under the route pattern', async () => {
    const res = await fetch(`${sys.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(res.status).toBe(400);
    await res.text();
    const samples = parseSamples(await (await fetch(`${sys.healthUrls.gateway}/metrics`)).text());
    expect(
      samples.find((s) => s.name === 'moma_requests_total' && s.labels.endpoint === 'POST /v1/chat/completions' && s.labels.code === 'INVALID_ARGUMENT')
        ?.value,
    ).toBe(1);
  });
});
