// W3C trace context over gRPC metadata (the executor stream and the public Router API), mirroring the NATS
// header propagation so one request stays one trace across both transports.
import { context, propagation, trace, ROOT_CONTEXT, SpanKind, type Context, type Span, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { Metadata } from '@grpc/grpc-js';
import { recordSpanError } from './telemetry.ts';

// grpc-js (with node:http2, ~10-20 MB RSS) is required on first use, not imported: the NATS-only services load
// this package without ever making a gRPC call. It is CommonJS, so `require` returns the instance an `import`
// elsewhere in the process gets.
const require = createRequire(import.meta.url);
let MetadataCtor: typeof Metadata | undefined;
const newMetadata = (): Metadata => new (MetadataCtor ??= (require('@grpc/grpc-js') as typeof import('@grpc/grpc-js')).Metadata)();

const setter: TextMapSetter<Metadata> = { set: (md, k, v) => md.set(k, v) };
const getter: TextMapGetter<Metadata> = {
  get: (md, k) => {
    const v = md.get(k)[0];
    return v === undefined ? undefined : typeof v === 'string' ? v : v.toString('utf8');
  },
  keys: (md) => Object.keys(md.getMap()),
};

/** Writes the context's trace headers (traceparent, tracestate, baggage) into `md` and returns it. */
export function injectGrpcMetadata(md: Metadata, ctx: Context = context.active()): Metadata {
  propagation.inject(ctx, md, setter);
  return md;
}

/** The caller's context from incoming metadata; run the handler in it (`context.with(ctx, ...)`). */
export function extractGrpcContext(md: Metadata, base: Context = context.active()): Context {
  return propagation.extract(base, md, getter);
}

/** Fresh metadata carrying the active trace context, for an outgoing gRPC call. */
export function grpcCallMetadata(ctx: Context = context.active()): Metadata {
  return injectGrpcMetadata(newMetadata(), ctx);
}

/**
 * Runs a gRPC handler in a SERVER span that is a child of the caller's span (from the call's metadata). Errors
 * are recorded on the span and rethrown; map them with `MomaError.from(err)` + `toGrpcStatus`.
 */
export async function withGrpcServerSpan<T>(method: string, md: Metadata, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = extractGrpcContext(md, ROOT_CONTEXT);
  const span = trace.getTracer('@moma/platform/grpc').startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    recordSpanError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
