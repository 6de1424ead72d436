// W3C trace context over gRPC metadata (the executor stream and the public Router API), mirroring the NATS
// header propagation so one request stays one trace across both transports.
// Type-only use of grpc-js: callers pass their own Metadata, so the NATS-only services never load grpc-js (with
// node:http2, ~10-20 MB RSS) through this package.
import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';

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
