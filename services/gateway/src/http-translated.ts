// What the translated doors (Anthropic Messages, OpenAI Responses) share: a turn runs on the chat path as it is, and
// its answer is handed to the door's translator, whole (the provider's chat.completion, or one made from an agent's
// text) or as a stream (each provider chunk or agent delta, then the end). Like the chat door, headers (with the
// decision) go out with the first event, so a request the provider refuses still gets that status.
import type { FastifyReply } from 'fastify';
import { targetText, type Turn } from '@moma/core/rules';
import { sseText, type Json, type SseEvent, type TokenCounts } from '@moma/core/wire';
import type { ExecuteResponse, Usage } from '@moma/proto';
import { decisionJson, headerText, httpError, notRecorded, servedModel, usageJson } from './present.ts';
import type { GatewayRouter } from './router.ts';
import { annotated, eventStream, noteServedBy, replyHeaders, runWhole } from './http-turn.ts';
import type { Decided } from './decide.ts';
import { failSpan, type inSpan } from './tracing.ts';

type Span = Parameters<Parameters<typeof inSpan>[2]>[0];

export function tokenCounts(u: Usage | undefined): TokenCounts | undefined {
  return u ? { promptTokens: u.promptTokens, completionTokens: u.completionTokens } : undefined;
}

export interface WholeAnswer {
  /** The provider's chat.completion as it sent it, or one made from an agent's text. */
  completion: Json;
  /** The model that answered ("gpt-4o", "agent:<id>"), for an answer that names none. */
  model: string;
  /** The executor's accounting. */
  usage: TokenCounts | undefined;
  /** MoMA's account of the turn: decision, usage, agent state, fallbacks. */
  moma: Json;
}

/** Runs a non-streaming turn; the decision and the provider's pass-on headers are set on `reply`. */
export async function answerWhole(router: GatewayRouter, turn: Turn, reply: FastifyReply, span: Span): Promise<WholeAnswer> {
  const { decided, outcome, servedBy } = await runWhole(router, turn, reply, span);
  void reply.headers(outcome.headers).header('x-moma-served-by', headerText(targetText(servedBy)));
  const model = servedModel(servedBy);
  const usage = tokenCounts(outcome.usage);
  const completion: Json = outcome.body
    ? (JSON.parse(outcome.body.toString('utf8')) as Json)
    : {
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: outcome.text }, finish_reason: 'stop' }],
        usage: { prompt_tokens: usage?.promptTokens ?? 0, completion_tokens: usage?.completionTokens ?? 0 },
      };
  const moma = {
    decision: decisionJson(decided.decision),
    usage: usageJson(outcome.usage, outcome.fallbacks),
    agent_state: outcome.agentState,
    fallbacks: outcome.fallbacks.map(targetText),
  };
  return { completion, model, usage, moma };
}

/** A door's stream translator (AnthropicStream, ResponsesStream) with the door's way of telling a failure. */
export interface StreamTranslator {
  start(model: string, extra?: Json): SseEvent[];
  chunk(chunk: unknown): SseEvent[];
  text(delta: string): SseEvent[];
  end(usage: TokenCounts | undefined, extra?: Json): SseEvent[];
  fail(err: unknown): SseEvent[];
}

/** How a door tells a failure (present.ts httpError's status, message and code) as a stream event. */
export type FailureEvents = (failed: ReturnType<typeof failure>) => SseEvent[];

/** A StreamTranslator over one of the wire's stream translators (`s`), telling a failure with `fail`. */
export function translator(s: Omit<StreamTranslator, 'fail'>, fail: FailureEvents): StreamTranslator {
  return {
    start: (model, extra) => s.start(model, extra),
    chunk: (chunk) => s.chunk(chunk),
    text: (delta) => s.text(delta),
    end: (usage, extra) => s.end(usage, extra),
    fail: (err) => fail(failure(err)),
  };
}

/**
 * Streams a turn through `t`: the first executor event opens the stream (headers with the decision, then the door's
 * opening events with MoMA's decision on them); each provider chunk or agent delta is translated; the end carries
 * MoMA's usage. A failure before the first event is thrown (the door's error handler answers with its status);
 * after it, the door's error event ends the stream.
 */
export async function streamTranslated(router: GatewayRouter, turn: Turn, reply: FastifyReply, span: Span, t: StreamTranslator): Promise<void> {
  const raw = reply.raw;
  const sse = eventStream(reply);
  let chosen: Decided | undefined;
  let started = false;
  let broken: unknown;
  const write = (events: SseEvent[]) => {
    if (events.length > 0 && !raw.writableEnded && !raw.destroyed) raw.write(events.map(sseText).join(''));
  };
  const start = (model: string, headers: Record<string, string>) => {
    if (started || !chosen) return;
    started = true;
    sse.open(headers, chosen);
    write(t.start(model, { moma: { decision: decisionJson(chosen.decision) } }));
  };
  try {
    const { decided, outcome } = await router.chat(
      turn,
      annotated(span, (d) => {
        chosen = d;
        // For an error answered before the stream opens; the stream writes its own headers.
        void reply.headers(replyHeaders(d));
      }),
      (ev: ExecuteResponse) => {
        // Runs inside the executor call's event handler: a throw here is caught and ends the call instead.
        if (broken !== undefined) return;
        try {
          if (ev.chunk !== undefined) {
            const chunk: unknown = JSON.parse(ev.chunk.toString('utf8'));
            const named = (chunk as { model?: unknown } | null)?.model;
            start(typeof named === 'string' && named !== '' ? named : servedModel(chosen?.decision.target), ev.headers);
            write(t.chunk(chunk));
          } else if (ev.delta !== undefined) {
            start(servedModel(chosen?.decision.target), ev.headers);
            write(t.text(ev.delta));
          }
          // A fallback moves on to the next target before anything was said: the stream opens with its answer.
        } catch (err) {
          broken = err;
          sse.abort();
        }
      },
      sse.signal,
    );
    if (broken !== undefined) throw broken;
    start(servedModel(noteServedBy(span, decided, outcome)), outcome.headers);
    const moma = {
      usage: usageJson(outcome.usage, outcome.fallbacks),
      agent_state: outcome.agentState,
      fallbacks: outcome.fallbacks.map(targetText),
      ...notRecorded(outcome),
    };
    write(t.end(tokenCounts(outcome.usage), { moma }));
    raw.end();
  } catch (caught) {
    const err = broken ?? caught;
    if (!started) throw err;
    failSpan(span, err);
    write(t.fail(err));
    if (!raw.writableEnded && !raw.destroyed) raw.end();
  } finally {
    sse.close();
  }
}

/** The status and message a failure shows (the gateway's one mapping, present.ts httpError). */
export function failure(err: unknown): { status: number; message: string; code: string; headers: Record<string, string> } {
  const { status, body, headers } = httpError(err);
  return { status, message: body.error.message, code: body.error.code, headers };
}
