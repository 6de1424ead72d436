import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import { llmTarget } from '@moma/core/rules';
import { injectGrpcMetadata, startTelemetry, type Telemetry } from '@moma/platform';
import type { Target } from '@moma/proto';
import { startFakeOpenAI, startOtlpReceiver, type FakeOpenAI, type OtlpReceiver } from '@moma/testkit';
import { decision, execute, runExecutor, type Running } from './test-helpers.ts';

describe('executor - tracing', () => {
  let otlp: OtlpReceiver;
  let telemetry: Telemetry;
  let fake: FakeOpenAI;
  let exec: Running;

  beforeAll(async () => {
    otlp = await startOtlpReceiver();
    telemetry = startTelemetry('executor', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } });
    fake = await startFakeOpenAI({ failModels: ['broken'] });
    exec = await runExecutor([{ name: 'local', baseUrl: fake.url, models: ['*'], prices: { cheap: { input: 1, output: 1 } } }]);
  });
  afterAll(async () => {
    await exec?.close();
    await fake?.close();
    await telemetry?.shutdown();
    await otlp?.close();
  });

  /** Runs one Execute inside a caller span whose context travels in the gRPC metadata, as the gateway sends it. */
  async function tracedCall(targets: Target[]) {
    const caller = trace.getTracer('test').startSpan('gateway chat');
    const md = injectGrpcMetadata(new Metadata(), trace.setSpan(context.active(), caller));
    const r = await execute(exec.client, { decision: decision(targets), messages: [{ role: 'user', content: 'trace me' }] }, md);
    caller.end();
    await telemetry.forceFlush();
    const { traceId, spanId } = caller.spanContext();
    const spans = await otlp.waitFor((all) => all.some((s) => s.traceId === traceId && s.name === 'moma.v1.Executor/Execute'));
    return { r, traceId, callerSpanId: spanId, spans: spans.filter((s) => s.traceId === traceId) };
  }

  it('executor - the Execute span joins the caller trace, with a child span per attempt and the accounting', async () => {
    const { r, callerSpanId, spans } = await tracedCall([llmTarget('broken'), llmTarget('cheap')]);
    expect(r.error).toBeUndefined();
    const server = spans.find((s) => s.name === 'moma.v1.Executor/Execute');
    expect(server?.parentSpanId).toBe(callerSpanId);
    expect(server?.kind).toBe(2);
    expect(server?.attributes['app.executor.target']).toBe('llm:broken');
    expect(server?.attributes['app.executor.served_by']).toBe('llm:cheap');
    expect(server?.attributes['app.executor.completion_tokens']).toBe(r.usage?.completionTokens);
    expect(server?.attributes['app.executor.cost_usd']).toBeCloseTo(r.usage!.costUsd, 12);
    const attempts = spans.filter((s) => s.name.startsWith('executor.call '));
    expect(attempts.map((s) => [s.name, s.parentSpanId, s.statusCode])).toEqual([
      ['executor.call llm:broken', server?.spanId, 2],
      ['executor.call llm:cheap', server?.spanId, 0],
    ]);
  });

  it('executor - a failed Execute is recorded with ERROR status and the exception', async () => {
    const { r, spans } = await tracedCall([llmTarget('broken')]);
    expect(r.error).toBeDefined();
    const server = spans.find((s) => s.name === 'moma.v1.Executor/Execute');
    expect(server?.statusCode).toBe(2);
    expect(server?.statusMessage).toContain('llm:broken');
    expect(server?.events.map((e) => e.name)).toContain('exception');
    expect(server?.attributes['moma.error.code']).toBe('UNAVAILABLE');
  });
});
