// pino JSON logs with the active span's trace_id/span_id on every line, so a log line leads to its trace.
import { pino, stdSerializers, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { trace, isSpanContextValid } from '@opentelemetry/api';

export interface CreateLoggerOptions {
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to capture them. */
  destination?: DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

export function createLogger(service: string, opts: CreateLoggerOptions = {}): PinoLogger {
  const options = {
    level: opts.level ?? 'info',
    base: { service, ...opts.base },
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: stdSerializers.err, error: stdSerializers.err },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      if (!ctx || !isSpanContextValid(ctx)) return {};
      return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}` };
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
