// The OpenAI-compatible HTTP door (fastify): chat completions (stream and not), route, models, health.
// Every answer carries the decision in its body and in `x-moma-*` headers; every error is OpenAI-shaped JSON.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { jsonDepth, targetText } from '@moma/core/rules';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { Code, codeForHttpStatus, MomaError, type Bus, type Logger, type RequestMetrics } from '@moma/platform';
import type { ExecuteResponse } from '@moma/proto';
import { parseChatBody, parseSessionBody } from './http-body.ts';
import { asCaller, tenantFor } from './auth.ts';
import { registerAdminRoutes, registerAuth } from './http-auth.ts';
import { registerAgentRoutes } from './http-agents.ts';
import { registerAnthropicRoutes } from './http-anthropic.ts';
import { registerModelRoute } from './http-models.ts';
import { registerResponsesRoutes } from './http-responses.ts';
import { annotated, eventStream, noteServedBy, replyHeaders, runWhole, sessionHeader } from './http-turn.ts';
import type { Decided } from './decide.ts';
import { decisionJson, headerText, httpError, modelsJson, notRecorded, servedModel, usageJson } from './present.ts';
import type { GatewayRouter } from './router.ts';
import { annotate, failSpan, inHttpSpan, type inSpan } from './tracing.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Dashboard } from './dashboard.ts';
import { registerUiRoutes } from './http-ui.ts';

export interface HttpOptions {
  bodyLimit: number;
  /** Longest time to receive one whole request; then 408 and the connection is closed (default 10 s). */
  bodyTimeoutMs?: number;
  /** Records every answered request as `<METHOD> <route pattern>` (moma_requests_total / _duration_seconds). */
  metrics?: RequestMetrics;
  /** The gateway's own families (moma_gateway_requests_total by door, route and HTTP status; latency by door). */
  gatewayMetrics?: GatewayMetrics;
  /** /ui, /v1/admin/dashboard and POST /v1/feedback (feedback events go out on `bus`). */
  ui?: { dashboard: Dashboard; bus: Bus };
}

/** The final event's note that a session turn was answered but not recorded (`session_recorded: false`). */

const STATUS_LABELS = new Map<number, string>();
const statusLabel = (n: number): string => STATUS_LABELS.get(n) ?? (STATUS_LABELS.set(n, String(n)), String(n));

/** Deepest nesting of objects and arrays accepted in a JSON request body. */
export const MAX_BODY_DEPTH = 64;

export function buildHttpServer(router: GatewayRouter, logger: Logger, opts: HttpOptions): FastifyInstance {
  const requestTimeout = opts.bodyTimeoutMs ?? 10_000;
  const app = Fastify({
    logger: false,
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
    // Node checks request timeouts every connectionsCheckingInterval (30 s by default): check often enough that a
    // stalled body is cut off near its deadline.
    serverFactory: (handler) =>
      createHttpServer({ requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(100, requestTimeout / 4)) }, handler),
  });
  // JSON bodies are measured for depth before they are parsed: the default parser's prototype-poisoning scan
  // recurses, so a body nested thousands deep would overflow the stack (a 500) instead of being refused.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepth(text, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      done(MomaError.invalidArgument(`request body is nested deeper than ${MAX_BODY_DEPTH} levels`), undefined);
      return;
    }
    parseJson(req, text, done);
  });
  const { metrics, gatewayMetrics } = opts;
  if (metrics || gatewayMetrics) {
    // Fires for streamed (hijacked) answers too, once the last byte is out; unmatched paths share one label.
    app.addHook('onResponse', (req, reply, done) => {
      const status = reply.statusCode;
      const route = req.routeOptions.url ?? '(no route)';
      const seconds = reply.elapsedTime / 1000;
      metrics?.observe(`${req.method} ${route}`, status < 400 ? Code.OK : codeForHttpStatus(status), seconds);
      gatewayMetrics?.request(route, statusLabel(status), seconds);
      done();
    });
  }

  registerAuth(app, router.auth);

  app.setErrorHandler((err, _req, reply) => {
    const { status, body, headers } = httpError(err);
    if (status >= 500) logger.error({ err, status }, 'request failed');
    void reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      error: { message: `no route for ${req.method} ${req.url}`, type: 'invalid_request_error', code: 'not_found' },
    });
  });

  app.post('/v1/chat/completions', (req, reply) =>
    inHttpSpan(req, reply, async (span) => {
      const { turn, stream } = parseChatBody(req.body, sessionHeader(req));
      asCaller(req.principal, turn);
      if (stream) return streamChat(router, turn, reply, span);
      const { decided, outcome, servedBy } = await runWhole(router, turn, reply, span);
      const d = decided.decision;
      const usage = usageJson(outcome.usage, outcome.fallbacks);
      void reply.header('x-moma-served-by', headerText(targetText(servedBy)));
      const moma = { request_id: decided.requestId, decision: decisionJson(d), usage, agent_state: outcome.agentState, fallbacks: outcome.fallbacks.map(targetText) };
      if (outcome.body) {
        // The provider's answer as it sent it, with MoMA's decision added beside its fields.
        void reply.headers(outcome.headers).type('application/json');
        return withMoma(outcome.body, { session_id: decided.sessionId, moma });
      }
      return {
        id: `chatcmpl-${randomUUID()}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: servedModel(servedBy),
        choices: [{ index: 0, message: { role: 'assistant', content: outcome.text }, finish_reason: 'stop' }],
        usage: {
          prompt_tokens: usage.prompt_tokens,
          completion_tokens: usage.completion_tokens,
          total_tokens: usage.prompt_tokens + usage.completion_tokens,
        },
        session_id: decided.sessionId,
        moma,
      };
    }),
  );

  // Sessions are explicit: a chat or route call without a session id is stateless and stores nothing.
  app.post('/v1/sessions', (req, reply) =>
    inHttpSpan(req, reply, async () => {
      const sessionId = await router.createSession(tenantFor(req.principal, parseSessionBody(req.body)));
      void reply.code(201).header('x-moma-session-id', sessionId);
      return { session_id: sessionId };
    }),
  );

  app.post('/v1/route', (req, reply) =>
    inHttpSpan(req, reply, async (span) => {
      const { turn } = parseChatBody(req.body, sessionHeader(req));
      asCaller(req.principal, turn);
      const decided = await router.route(turn);
      const { decision } = decided;
      annotate(span, decision);
      void reply.headers(replyHeaders(decided));
      return { session_id: decision.sessionId, decision: decisionJson(decision) };
    }),
  );

  app.get('/v1/models', async () => {
    const res = await router.listModels();
    return modelsJson(res.models, res.routerVersion, res);
  });

  app.get('/healthz', async (_req, reply) => {
    const report = await router.health();
    void reply.code(report.ok ? 200 : 503);
    return { status: report.ok ? 'ok' : 'unavailable', checks: report.checks };
  });

  registerAgentRoutes(app, router.stages.orchestrator);
  registerAdminRoutes(app, router.keys, router.auth);
  registerModelRoute(app, router);
  registerAnthropicRoutes(app, router, logger);
  registerResponsesRoutes(app, router);
  if (opts.ui) registerUiRoutes(app, opts.ui.dashboard, opts.ui.bus);
  return app;
}

type Span = Parameters<Parameters<typeof inSpan>[2]>[0];

// SSE: headers (with the decision) go out before the first byte; the first chunk carries the decision in `moma`,
// then one chunk per delta (fallbacks as `moma.fallback`), a final chunk with usage, and `data: [DONE]`.
async function streamChat(
  router: GatewayRouter,
  turn: ReturnType<typeof parseChatBody>['turn'],
  reply: FastifyReply,
  span: Span,
): Promise<void> {
  // MoMA's own chunks (agent answers, fallbacks, its accounting) use the provider's id and times once it streams,
  // so an SDK that assembles the chunks keeps the provider's id.
  let id = `chatcmpl-${randomUUID()}`;
  let created = Math.floor(Date.now() / 1000);
  let fingerprint: unknown;
  let providerModel: string | undefined;
  const raw = reply.raw;
  const sse = eventStream(reply);
  let model = '';
  let started = false;
  let chosen: Decided | undefined;
  /** The decision rides on the first chunk the client gets (MoMA's own or the provider's). */
  let pendingMoma: Record<string, unknown> | undefined;
  const chunk = (choices: unknown[], extra?: Record<string, unknown>) =>
    raw.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, ...(fingerprint ? { system_fingerprint: fingerprint } : {}), choices, ...extra })}\n\n`,
    );
  // Headers go out with the first event, not with the decision: a provider that refuses the request (a 400 for a
  // bad tool schema) still answers the client with that status instead of an SSE stream that carries an error.
  const start = (provider: Record<string, string> = {}) => {
    if (started || !chosen) return;
    started = true;
    sse.open(provider, chosen);
    pendingMoma = { session_id: chosen.sessionId, moma: { decision: decisionJson(chosen.decision) } };
  };
  const momaChunk = (choices: unknown[], extra?: Record<string, unknown>) => {
    const first = pendingMoma;
    pendingMoma = undefined;
    chunk(choices, { ...first, ...extra, ...(first && extra?.moma ? { moma: { ...(first.moma as object), ...(extra.moma as object) } } : {}) });
  };

  const adoptIds = (first: Buffer) => {
    try {
      const c = JSON.parse(first.toString('utf8')) as { id?: unknown; created?: unknown; model?: unknown; system_fingerprint?: unknown };
      if (typeof c.id === 'string') id = c.id;
      if (typeof c.model === 'string') providerModel = c.model;
      if (typeof c.created === 'number') created = c.created;
      fingerprint = c.system_fingerprint;
    } catch {
      // not JSON: relayed as it came, MoMA keeps its own id
    }
  };

  try {
    const { decided, outcome } = await router.chat(
      turn,
      annotated(span, (d) => {
        chosen = d;
        model = servedModel(d.decision.target);
      }),
      (ev: ExecuteResponse) => {
        start(ev.headers);
        if (ev.chunk !== undefined) {
          const first = pendingMoma;
          pendingMoma = undefined;
          if (first) adoptIds(ev.chunk);
          raw.write(first ? `data: ${withMoma(ev.chunk, first).toString('utf8')}\n\n` : `data: ${ev.chunk.toString('utf8')}\n\n`);
        } else if (ev.delta !== undefined) {
          if (pendingMoma) momaChunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
          chunk([{ index: 0, delta: { content: ev.delta }, finish_reason: null }]);
        } else if (ev.fallback !== undefined) momaChunk([], { moma: { fallback: targetText(ev.fallback), agent_state: ev.agentState } });
      },
      sse.signal,
    );
    start();
    model = providerModel ?? servedModel(noteServedBy(span, decided, outcome));
    const usage = usageJson(outcome.usage, outcome.fallbacks);
    const openAiUsage = {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
    };
    if (outcome.forwarded) {
      // The provider sent its own finish chunk (and its usage chunk if the client asked for one); MoMA's accounting
      // follows in a chunk of its own, with OpenAI's usage only when the provider's did not already go out.
      const asked = (turn.forward?.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      momaChunk([], { ...(asked ? {} : { usage: openAiUsage }), moma: { usage, agent_state: outcome.agentState, ...notRecorded(outcome) } });
    } else {
      momaChunk([{ index: 0, delta: {}, finish_reason: 'stop' }], { usage: openAiUsage, moma: { usage, agent_state: outcome.agentState, ...notRecorded(outcome) } });
    }
    raw.end('data: [DONE]\n\n');
  } catch (err) {
    // Before the stream started the error handler answers with a status; afterwards only an SSE error event can.
    if (!started) throw err;
    failSpan(span, err);
    if (!raw.writableEnded && !raw.destroyed) {
      raw.write(`data: ${JSON.stringify(httpError(err).body)}\n\n`);
      raw.end('data: [DONE]\n\n');
    }
  } finally {
    sse.close();
  }
}

/**
 * A provider's JSON object with MoMA's fields added at its end, without parsing and re-serialising what is only
 * passed on: the fields go before the object's closing brace.
 */
export function withMoma(json: Buffer, fields: Record<string, unknown>): Buffer {
  let end = json.length - 1;
  while (end >= 0 && json[end] !== 0x7d) end--; // '}'
  if (end < 0) return json;
  let before = end - 1;
  while (before >= 0 && (json[before] === 0x20 || json[before] === 0x0a || json[before] === 0x0d || json[before] === 0x09)) before--;
  const empty = json[before] === 0x7b; // '{': no field to put a comma after
  const extra = JSON.stringify(fields).slice(1, -1);
  return Buffer.concat([json.subarray(0, end), Buffer.from(`${empty ? '' : ','}${extra}`), json.subarray(end)]);
}
