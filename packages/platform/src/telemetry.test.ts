import { describe, expect, it, afterAll, beforeAll } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import { startOtlpReceiver, type OtlpReceiver } from './test-support/otlp-receiver.ts';
import { startTelemetry, tracesEndpoint, withSpan, type Telemetry } from './telemetry.ts';
import { extractGrpcContext, injectGrpcMetadata } from './grpc-trace.ts';
import { MemoryBus } from './bus-memory.ts';
import { Code, MomaError } from './errors.ts';
import { EchoCodec } from './test-support/codecs.ts';
import { one } from './test-support/service.ts';

describe('telemetry', () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    telemetry = startTelemetry('unit-svc', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,team=moma' },
    });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await receiver?.close();
  });

  it('telemetry - the traces endpoint comes from the standard variables', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' })).toBe('http://t/x');
    expect(tracesEndpoint({})).toBeUndefined();
    expect(telemetry.endpoint).toBe(`${receiver.url}/v1/traces`);
  });

  it('telemetry - starting twice returns the first handle', () => {
    expect(startTelemetry('other-name')).toBe(telemetry);
  });

  it('telemetry - spans reach an OTLP endpoint with service.name, parents and error status', async () => {
    const bus = new MemoryBus();
    const subject = 'moma.test.telemetry.echo';
    await bus.serve(one('unit-svc', subject, EchoCodec, EchoCodec, async (r) => withSpan('app.handler', { 'app.unit.n': r.n }, async () => r)));
    let traceId = '';
    await withSpan('app.root', { 'app.unit.kind': 'root' }, async (span) => {
      traceId = span.spanContext().traceId;
      await bus.request(subject, { text: 'x', n: 3 }, EchoCodec, EchoCodec);
      await withSpan('app.failing', {}, async () => {
        throw new MomaError(Code.UNAVAILABLE, 'redis down');
      }).catch(() => undefined);
    });
    await telemetry.forceFlush();
    const spans = await receiver.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= 5, 5000);
    const mine = spans.filter((s) => s.traceId === traceId);
    const byName = new Map(mine.map((s) => [s.name, s]));
    const root = byName.get('app.root')!;
    expect(root.parentSpanId).toBe('');
    expect(root.serviceName).toBe('unit-svc');
    expect(root.resource).toMatchObject({ 'deployment.environment': 'test', team: 'moma' });
    expect(root.attributes).toMatchObject({ 'app.unit.kind': 'root' });
    const send = byName.get(`send ${subject}`)!;
    const proc = byName.get(`process ${subject}`)!;
    expect(send.parentSpanId).toBe(root.spanId);
    expect(proc.parentSpanId).toBe(send.spanId);
    expect(byName.get('app.handler')!.parentSpanId).toBe(proc.spanId);
    expect(byName.get('app.handler')!.attributes).toMatchObject({ 'app.unit.n': 3 });
    const failing = byName.get('app.failing')!;
    expect(failing.statusCode).toBe(2);
    expect(failing.statusMessage).toBe('redis down');
    expect(failing.attributes['moma.error.code']).toBe('UNAVAILABLE');
    expect(failing.events.map((e) => e.name)).toContain('exception');
  });

  it('telemetry - gRPC metadata carries the trace context both ways', async () => {
    await withSpan('app.grpc-client', {}, async (span) => {
      const md = injectGrpcMetadata(new Metadata());
      const header = md.get('traceparent')[0];
      expect(header).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      const extracted = extractGrpcContext(md, context.active());
      // On the server there is no active span; the extracted context's span is the remote caller.
      const remote = trace.getSpanContext(extracted);
      expect(remote?.traceId).toBe(span.spanContext().traceId);
      expect(remote?.isRemote).toBe(true);
    });
  });
});
