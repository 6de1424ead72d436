import { afterEach, describe, expect, it } from 'vitest';
import { Code } from './errors.ts';
import { runService } from './runtime.ts';
import { resetShutdownForTests } from './shutdown.ts';
import { startTelemetry } from './telemetry.ts';

// Memory bus and store, no exporter: the runtime without NATS/Redis.
const env = { LOG_LEVEL: 'silent', OTEL_SDK_DISABLED: 'true' };

describe('runService', () => {
  afterEach(async () => {
    resetShutdownForTests();
    await startTelemetry('cleanup').shutdown();
  });

  it('runtime - serves /healthz, /readyz and /metrics, and shuts down in order (readiness first, telemetry last)', async () => {
    const order: string[] = [];
    let base = '';
    const exits: number[] = [];
    const running = await runService({
      name: 'runtime-test',
      config: () => ({ port: 0, answer: 42 }),
      healthPort: (c) => c.port,
      healthHost: '127.0.0.1',
      env,
      exit: (code) => void exits.push(code),
      start: async (ctx, config) => ({
        answer: config.answer,
        async stop() {
          // The health server is still up while the service drains, but no longer ready.
          order.push(`service stop, readyz ${(await fetch(`${base}/readyz`)).status}`);
          ctx.metrics.observe('moma.runtime.test', Code.OK, 0.001);
        },
      }),
      health: async (_ctx, handle, config) => ({ ok: handle.answer === config.answer, details: { answer: handle.answer } }),
    });
    expect(exits).toEqual([]);
    expect(running).toBeDefined();
    const { ctx, health, stop } = running!;
    base = `http://127.0.0.1:${health.port}`;
    ctx.metrics.observe('moma.runtime.test', Code.INVALID_ARGUMENT, 0.0003);

    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok', answer: 42 });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/moma_requests_total\{(?=[^}]*endpoint="moma.runtime.test")(?=[^}]*code="INVALID_ARGUMENT")[^}]*\} 1\n/);
    expect(text).toMatch(/moma_request_duration_seconds_count\{[^}]*endpoint="moma.runtime.test"[^}]*\} 1\n/);

    const closed = ctx.bus.close.bind(ctx.bus);
    ctx.bus.close = async () => {
      order.push('context close');
      await closed();
    };
    await stop();
    order.push('stopped');
    expect(order).toEqual(['service stop, readyz 503', 'context close', 'stopped']);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('runtime - a boot failure is logged and exits 1, closing what was opened', async () => {
    const exits: number[] = [];
    const bad = await runService({
      name: 'runtime-test',
      config: () => {
        throw new Error('MOMA_X: bad');
      },
      healthPort: 0,
      env,
      exit: (code) => void exits.push(code),
      start: async () => ({ stop: async () => undefined }),
      health: async () => true,
    });
    expect(bad).toBeUndefined();
    expect(exits).toEqual([1]);

    let closedBus = false;
    const failed = await runService({
      name: 'runtime-test',
      config: {},
      healthPort: 0,
      healthHost: '127.0.0.1',
      env,
      exit: (code) => void exits.push(code),
      start: async (ctx) => {
        const close = ctx.bus.close.bind(ctx.bus);
        ctx.bus.close = async () => {
          closedBus = true;
          await close();
        };
        throw new Error('upstream unreachable');
      },
      health: async () => true,
    });
    expect(failed).toBeUndefined();
    expect(exits).toEqual([1, 1]);
    expect(closedBus).toBe(true);
  });
});
