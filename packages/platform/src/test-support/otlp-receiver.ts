// A real OTLP/HTTP trace endpoint for tests: services export to it exactly as they would to Jaeger, and tests
// assert on the spans a request produced. Accepts protobuf (the default of exporter-trace-otlp-proto) and JSON,
// gzip or not.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeTraceRequestJson, decodeTraceRequestProto, type ReceivedSpan } from './otlp-decode.ts';

export type { ReceivedSpan, AttrValue } from './otlp-decode.ts';

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (spans go to `${url}/v1/traces`). */
  url: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Resolves with the spans once `pred(allSpans)` is true; rejects after `timeoutMs` listing what arrived. */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Spans of one trace. */
  trace(traceId: string): ReceivedSpan[];
  clear(): void;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(opts: { port?: number; host?: string } = {}): Promise<OtlpReceiver> {
  let received: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      // Metrics and logs are accepted and dropped, so a service exporting them does not log errors.
      if (path === '/v1/metrics' || path === '/v1/logs') {
        await readBody(req);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      if (path !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const isJson = (req.headers['content-type'] ?? '').includes('json');
      try {
        const body = await readBody(req);
        const spans = isJson ? decodeTraceRequestJson(JSON.parse(body.toString('utf8'))) : decodeTraceRequestProto(body);
        received.push(...spans);
        for (const w of waiters) w();
        if (isJson) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode OTLP request: ${(err as Error).message}`);
      }
    })();
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    spans: () => [...received],
    trace: (traceId) => received.filter((s) => s.traceId === traceId),
    clear: () => {
      received = [];
    },
    waitFor(pred, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pred(received)) return false;
          cleanup();
          resolve([...received]);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const seen = received.map((s) => `${s.serviceName}:${s.name}`).join(', ') || 'none';
          reject(new Error(`OTLP receiver: condition not met within ${timeoutMs} ms; spans received: ${seen}`));
        }, timeoutMs);
        const waiter = () => void check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        if (!check()) waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
