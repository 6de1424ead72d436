import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startHealthServer } from './health.ts';
import { requestMetrics } from './metrics.ts';
import { Code, MomaError } from './errors.ts';

describe('health and metrics', () => {
  it('health - /healthz follows the check, /metrics serves the registry', async () => {
    let healthy = true;
    const registry = new Registry();
    const m = requestMetrics(registry);
    m.observe('moma.scoring.score', Code.OK, 0.0004);
    await m.time('moma.scoring.score', async () => {
      throw new MomaError(Code.INVALID_ARGUMENT, 'bad');
    }).catch(() => undefined);
    const server = await startHealthServer(0, async () => ({ ok: healthy, details: { nats: healthy } }), registry, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${server.port}`;
      let res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', nats: true });
      healthy = false;
      res = await fetch(`${base}/healthz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', nats: false });
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain('moma_requests_total{endpoint="moma.scoring.score",code="OK"} 1');
      expect(text).toContain('moma_requests_total{endpoint="moma.scoring.score",code="INVALID_ARGUMENT"} 1');
      expect(text).toContain('moma_request_duration_seconds_count{endpoint="moma.scoring.score"} 2');
      expect(text).toMatch(/moma_request_duration_seconds_bucket\{le="0.0005",endpoint="moma.scoring.score"\} [12]\n/);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('health - a throwing check is a 503 with the reason', async () => {
    const server = await startHealthServer(0, async () => {
      throw new Error('redis ping failed');
    }, undefined, '127.0.0.1');
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', error: 'redis ping failed' });
    } finally {
      await server.close();
    }
  });
});
