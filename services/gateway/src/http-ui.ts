// The operator's dashboard and the feedback API on the HTTP door.
//   GET /ui (+ /ui/app.js, /ui/app.css)   a static page, no framework, nothing fetched from elsewhere; admin scope
//   GET /v1/admin/dashboard               the JSON it polls (dashboard.ts); admin scope
//   POST /v1/feedback {request_id, score} a client's score in [0, 1] of one answer (its x-moma-request-id); route scope
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MomaError, publishEvent, type Bus } from '@moma/platform';
import { Topics } from '@moma/proto';
import { tenantFor } from './auth.ts';
import { objectBody } from './http-agents.ts';
import type { Dashboard } from './dashboard.ts';

const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));
const ASSETS: Record<string, { file: string; type: string }> = {
  '/ui': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const feedbackBody = z
  .object({
    request_id: z.string().min(1).max(128),
    score: z.number().min(0).max(1),
    tenant: z.string().max(128).optional(),
  })
  .strict();

export function registerUiRoutes(app: FastifyInstance, dashboard: Dashboard, bus: Bus): void {
  // Read once: the page is a few kilobytes, and a missing file is a broken install that should fail at start.
  const files = Object.fromEntries(Object.entries(ASSETS).map(([path, a]) => [path, { body: readFileSync(UI_DIR + a.file), type: a.type }]));
  for (const [path, f] of Object.entries(files)) {
    app.get(path, async (_req, reply) => {
      // The page must not be framed by another site, and runs only its own script.
      void reply
        .type(f.type)
        .header('cache-control', 'no-cache')
        .header('x-frame-options', 'DENY')
        .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'");
      return f.body;
    });
  }
  app.get('/ui/', async (_req, reply) => reply.redirect('/ui'));

  app.get('/v1/admin/dashboard', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    return dashboard.snapshot();
  });

  app.post('/v1/feedback', async (req, reply) => {
    const b = feedbackBody.parse(objectBody(req.body));
    const tenant = tenantFor(req.principal, b.tenant ?? '');
    try {
      await publishEvent(bus, Topics.feedback, { requestId: b.request_id, score: b.score, tenant, atMs: Date.now() });
    } catch (err) {
      throw MomaError.unavailable(`feedback not recorded: ${MomaError.from(err).message}`, err);
    }
    void reply.code(202);
    return { object: 'feedback', request_id: b.request_id, accepted: true };
  });
}
