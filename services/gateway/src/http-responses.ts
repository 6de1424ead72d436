// The OpenAI Responses door, its stateless part: POST /v1/responses (stream or not) translated to a chat body
// (@moma/core/wire), routed and forwarded like any chat turn, and the answer translated back to a Response object or
// the Responses event stream, with MoMA's decision in the `x-moma-*` headers and in `moma` on the response. MoMA
// stores no responses: stateful requests are 400s from the translation, and the routes that read stored responses
// answer 404 saying so. Errors are OpenAI-shaped (the gateway's own error handler).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { chatToResponse, responsesToChat, ResponsesStream, type ResponsesEcho } from '@moma/core/wire';
import { MomaError } from '@moma/platform';
import { parseChatBody } from './http-body.ts';
import { asCaller } from './auth.ts';
import { answerWhole, streamTranslated, translator, type StreamTranslator } from './http-translated.ts';
import { sessionHeader } from './http-turn.ts';
import type { GatewayRouter } from './router.ts';
import { inHttpSpan } from './tracing.ts';

export function registerResponsesRoutes(app: FastifyInstance, router: GatewayRouter): void {
  app.post('/v1/responses', (req, reply) =>
    inHttpSpan(req, reply, async (span) => {
      const { chat, stream, echo } = responsesToChat(req.body);
      const { turn } = parseChatBody(chat, sessionHeader(req));
      asCaller(req.principal, turn);
      const ctx = { id: `resp_${randomUUID().replace(/-/g, '')}`, createdAt: Math.floor(Date.now() / 1000), echo };
      if (stream) return streamTranslated(router, turn, reply, span, responsesTranslator(ctx));
      const a = await answerWhole(router, turn, reply, span);
      return chatToResponse(a.completion, { ...ctx, model: a.model, usage: a.usage, extra: { moma: a.moma } });
    }),
  );

  // Retrieve, delete, cancel, input items: all read stored responses, and there are none.
  const notStored = async (): Promise<never> => {
    throw MomaError.notFound('MoMA serves only POST /v1/responses, statelessly: it stores no responses, so there are none to retrieve, list, cancel or delete');
  };
  app.get('/v1/responses/*', notStored);
  app.delete('/v1/responses/*', notStored);
  app.post('/v1/responses/*', notStored);
}

function responsesTranslator(ctx: { id: string; createdAt: number; echo: ResponsesEcho }): StreamTranslator {
  const s = new ResponsesStream(ctx);
  return translator(s, ({ code, message }) => s.error(code, message));
}
