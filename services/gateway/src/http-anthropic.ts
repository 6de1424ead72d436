// The Anthropic Messages door: POST /v1/messages (stream or not) in Anthropic's shapes, on the chat path. The
// request is translated to a chat body (@moma/core/wire), routed and forwarded like any chat turn, and the answer
// translated back; MoMA's decision is in the `x-moma-*` headers and in `moma` on the message (message_start and
// message_delta when streaming). Errors are Anthropic-shaped, `{type:"error", error:{type, message}}`, with the
// status the chat door would answer. (A provider that speaks Anthropic natively still gets the translated chat
// request: passing the request through unchanged to such providers is a later step.)
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { anthropicError, anthropicToChat, AnthropicStream, chatToAnthropicMessage } from '@moma/core/wire';
import type { Logger } from '@moma/platform';
import { parseChatBody } from './http-body.ts';
import { asCaller } from './auth.ts';
import { answerWhole, failure, streamTranslated, translator, type StreamTranslator } from './http-translated.ts';
import { sessionHeader } from './http-turn.ts';
import type { GatewayRouter } from './router.ts';
import { inHttpSpan } from './tracing.ts';

export function registerAnthropicRoutes(app: FastifyInstance, router: GatewayRouter, logger: Logger): void {
  // Its own scope, so its errors (fastify's body errors too) get Anthropic's shape and the rest keep OpenAI's.
  void app.register(async (scope) => {
    scope.setErrorHandler((err, _req, reply) => {
      const { status, message, headers } = failure(err);
      if (status >= 500) logger.error({ err, status }, 'request failed');
      void reply.code(status).headers(headers).send(anthropicError(status, message));
    });

    scope.post('/v1/messages', (req, reply) =>
      inHttpSpan(req, reply, async (span) => {
        const { chat, stream, stopSequences } = anthropicToChat(req.body);
        const { turn } = parseChatBody(chat, sessionHeader(req));
      asCaller(req.principal, turn);
        const id = `msg_${randomUUID().replace(/-/g, '')}`;
        if (stream) return streamTranslated(router, turn, reply, span, anthropicTranslator(id, stopSequences));
        const a = await answerWhole(router, turn, reply, span);
        return chatToAnthropicMessage(a.completion, { id, model: a.model, stopSequences, usage: a.usage, extra: { moma: a.moma } });
      }),
    );
  });
}

function anthropicTranslator(id: string, stopSequences: string[]): StreamTranslator {
  const s = new AnthropicStream(id, stopSequences);
  return translator(s, ({ status, message }) => s.error(status, message));
}
