import { describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { startOtlpReceiver } from './otlp-receiver.ts';

describe('otlp receiver', () => {
  it('otlp receiver - decodes protobuf exports from the OTel SDK', async () => {
    const receiver = await startOtlpReceiver();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'gateway' }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }) })],
    });
    try {
      const t = provider.getTracer('test');
      const parent = t.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER, attributes: { 'app.gateway.mode': 'balanced', 'app.n': 3, 'app.ok': true, 'app.list': ['a', 'b'] } });
      const child = t.startSpan('send moma.intent.classify', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), parent));
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'nope' });
      child.recordException(new Error('nope'));
      child.end();
      parent.end();
      await provider.forceFlush();
      const spans = await receiver.waitFor((s) => s.length >= 2, 5000);
      const p = spans.find((s) => s.name === 'POST /v1/chat/completions')!;
      const c = spans.find((s) => s.name === 'send moma.intent.classify')!;
      expect(p).toMatchObject({
        serviceName: 'gateway',
        traceId: parent.spanContext().traceId,
        spanId: parent.spanContext().spanId,
        parentSpanId: '',
        kind: 2,
        attributes: { 'app.gateway.mode': 'balanced', 'app.n': 3, 'app.ok': true, 'app.list': ['a', 'b'] },
        scope: 'test',
      });
      expect(p.endTimeUnixNano).toBeGreaterThan(p.startTimeUnixNano);
      expect(c).toMatchObject({ parentSpanId: p.spanId, kind: 3, statusCode: 2, statusMessage: 'nope' });
      expect(c.events[0]).toMatchObject({ name: 'exception', attributes: { 'exception.message': 'nope' } });
      expect(receiver.trace(p.traceId)).toHaveLength(2);
    } finally {
      await provider.shutdown();
      await receiver.close();
    }
  });

  it('otlp receiver - accepts OTLP/JSON and rejects garbage with 400', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const body = {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'scoring' } }] },
            scopeSpans: [{ scope: { name: 's' }, spans: [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), parentSpanId: 'ef'.repeat(8), name: 'score', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'app.k', value: { intValue: '7' } }] }] }],
          },
        ],
      };
      const res = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      expect(receiver.spans()).toEqual([expect.objectContaining({ serviceName: 'scoring', traceId: 'ab'.repeat(16), parentSpanId: 'ef'.repeat(8), name: 'score', attributes: { 'app.k': 7 } })]);
      const bad = await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
      expect(bad.status).toBe(400);
      await expect(receiver.waitFor((s) => s.length > 5, 100)).rejects.toThrow(/spans received: scoring:score/);
    } finally {
      await receiver.close();
    }
  });
});
