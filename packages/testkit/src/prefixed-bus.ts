import type { Bus } from '@moma/platform';

/**
 * A bus whose every subject is namespaced with `prefix`, so test files sharing one NATS never answer each other's
 * requests or see each other's events (stage subjects and queue groups are fixed names in production).
 */
export function prefixedBus(bus: Bus, prefix: string): Bus {
  const p = (s: string) => `${prefix}.${s}`;
  return {
    request: (subject, req, reqCodec, resCodec, opts) => bus.request(p(subject), req, reqCodec, resCodec, opts),
    serve: (service) => bus.serve({ ...service, endpoints: service.endpoints.map((e) => ({ ...e, subject: p(e.subject) })) }),
    publish: (subject, msg, codec) => bus.publish(p(subject), msg, codec),
    subscribe: (subject, codec, handler) => bus.subscribe(p(subject), codec, handler),
    consume: (subject, group, codec, handler) => bus.consume(p(subject), `${prefix}-${group}`.replace(/[^A-Za-z0-9_-]/g, '_'), codec, handler),
    close: () => bus.close(),
  };
}
