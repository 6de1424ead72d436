// A tiny HTTP server for Kubernetes probes and Prometheus scrapes, for the services that only speak NATS.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type HealthCheck = () => Promise<boolean | { ok: boolean; details?: Record<string, unknown> }>;

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (200 when `check` passes, else 503, with JSON details), `/readyz` (same check), and
 * `/metrics` (Prometheus text from `registry`). Port 0 picks a free port.
 */
export async function startHealthServer(port: number, check: HealthCheck, registry?: Registry, host = '0.0.0.0'): Promise<HealthServer> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz' || path === '/readyz') {
        let ok = false;
        let details: Record<string, unknown> | undefined;
        try {
          const r = await check();
          ok = typeof r === 'boolean' ? r : r.ok;
          details = typeof r === 'boolean' ? undefined : r.details;
        } catch (err) {
          details = { error: (err as Error).message };
        }
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...details }));
        return;
      }
      if (path === '/metrics' && registry) {
        res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
