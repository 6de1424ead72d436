import { describe, expect, it, afterEach } from 'vitest';
import { configureShutdown, onShutdown, resetShutdownForTests, shutdownNow } from './shutdown.ts';

describe('shutdown', () => {
  afterEach(() => resetShutdownForTests());

  it('shutdown - steps run once, in order, with `last` steps at the end, failures reported not fatal', async () => {
    const order: string[] = [];
    const reported: string[] = [];
    configureShutdown({ report: (msg) => void reported.push(msg), deadlineMs: 1000 });
    onShutdown(() => void order.push('telemetry'), { last: true });
    onShutdown(async () => {
      await new Promise((r) => setTimeout(r, 10));
      order.push('servers');
    });
    onShutdown(() => {
      order.push('bad');
      throw new Error('x');
    }, { name: 'bad-step' });
    onShutdown(() => void order.push('context'));
    await Promise.all([shutdownNow(), shutdownNow()]);
    expect(order).toEqual(['servers', 'bad', 'context', 'telemetry']);
    expect(reported).toEqual(['shutdown step bad-step failed']);
  });

  it('shutdown - a stuck step is cut off at the deadline', async () => {
    const reported: string[] = [];
    configureShutdown({ report: (msg) => void reported.push(msg), deadlineMs: 50 });
    onShutdown(() => new Promise(() => undefined));
    await expect(shutdownNow()).rejects.toThrow(/within 50 ms/);
    expect(reported).toEqual(['shutdown timed out']);
  });
});
