import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from './logger.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('logger - JSON lines carry service, level label, fields and message', () => {
    const { lines, destination } = capture();
    const log = createLogger('scoring', { destination, level: 'debug' });
    log.info({ sessionId: 's1' }, 'model chosen');
    log.child({ requestId: 'r1' }).debug({}, 'detail');
    expect(lines[0]).toMatchObject({ service: 'scoring', level: 'info', sessionId: 's1', msg: 'model chosen' });
    expect(lines[1]).toMatchObject({ level: 'debug', requestId: 'r1' });
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('logger - lines inside a span carry its trace_id and span_id', () => {
    const cm = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(cm);
    const provider = new TracerProvider();
    const span = provider.getTracer('t').startSpan('op');
    const { lines, destination } = capture();
    const log = createLogger('intent', { destination });
    context.with(trace.setSpan(context.active(), span), () => log.warn({}, 'inside'));
    span.end();
    expect(lines[0]).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId, trace_flags: '01' });
    context.disable();
  });

  it('logger - errors are serialised with message and stack', () => {
    const { lines, destination } = capture();
    createLogger('x', { destination }).error({ err: new Error('boom') }, 'failed');
    expect(lines[0]?.err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(String((lines[0]?.err as { stack: string }).stack)).toContain('logger.test.ts');
  });
});
