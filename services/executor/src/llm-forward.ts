// One chat completion forwarded as the client wrote it: the request body goes to the provider with only `model`
// rewritten, and the provider's answer comes back as it was sent (each SSE event's data, or the whole JSON), so
// tools, structured output, images, logprobs, n, stop... reach the model and its answer reaches the client. The
// executor reads of the answer only what it accounts for: usage, and the text the session records.
import { StringDecoder } from 'node:string_decoder';
import { MomaError } from '@moma/platform';
import { estimatePromptTokens, estimateTokens } from './accounting.ts';
import { StreamDeadline, type Timeouts } from './deadline.ts';
import { retryAfterMs, TargetFailure, upstreamFailure } from './failure.ts';
import type { CallResult } from './llm-call.ts';
import type { ResolvedModel } from './providers.ts';
import { scrub } from './scrub.ts';

export { scrub };

export interface ForwardResult extends CallResult {
  /** The answer's text (first choice), for the session's history. */
  text: string;
  /** The provider's whole JSON answer (non-streaming calls). */
  body: Buffer | undefined;
  /** Provider response headers worth passing on. */
  headers: Record<string, string>;
}

/** Provider headers a client may rely on: its request id (support tickets) and its rate-limit state. */
const PASSED_ON = /^(x-request-id|x-ratelimit-|retry-after$|openai-processing-ms$)/;

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

/** The forwarded request body as an object; a body that is not a JSON object is the caller's mistake. */
export function parseForwardBody(raw: Uint8Array): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (err) {
    throw MomaError.invalidArgument(`body: not valid JSON (${(err as Error).message})`, { field: 'body' });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw MomaError.invalidArgument('body: must be a JSON object', { field: 'body' });
  return body as Record<string, unknown>;
}

export async function forwardChat(
  model: ResolvedModel,
  request: Readonly<Record<string, unknown>>,
  messages: ReadonlyArray<{ role: string; content: string }>,
  /** Each SSE event's data; the first also gets the provider headers worth passing on. */
  onChunk: (data: Buffer, headers?: Record<string, string>) => void,
  signal: AbortSignal,
  timeouts: Timeouts,
): Promise<ForwardResult> {
  const body: Record<string, unknown> = { ...request, model: model.upstreamModel };
  const stream = body.stream === true;
  // Usage is how a call is paid for: ask for it on streams, and keep its extra chunk from a client that did not.
  const options = (body.stream_options ?? {}) as { include_usage?: boolean };
  const hideUsage = stream && options.include_usage !== true;
  if (hideUsage) body.stream_options = { ...options, include_usage: true };

  const where = `provider ${model.provider}`;
  // A stream's first byte is its first event; a whole answer's is its response headers, and the body then has
  // until the total allowance (a slow model may take 20 s to write an answer whose headers came at once).
  const deadline = new StreamDeadline(signal, stream ? { ...timeouts, totalMs: 0 } : timeouts);
  let text = '';
  let usage: Usage | undefined;
  let whole: Buffer | undefined;
  const headers: Record<string, string> = {};
  try {
    const res = await model.post('/chat/completions', JSON.stringify(body), deadline.signal);
    for (const [k, v] of Object.entries(res.headers)) if (PASSED_ON.test(k) && typeof v === 'string') headers[k] = v;
    if (!stream) deadline.firstByte();
    if (res.statusCode >= 400) throw providerError(res.statusCode, headers, await res.body.text(), where, model.secrets);
    if (!stream) {
      whole = Buffer.from(await res.body.arrayBuffer());
      const json = JSON.parse(whole.toString('utf8')) as { choices?: Array<{ message?: { content?: unknown } }>; usage?: Usage };
      const content = json.choices?.[0]?.message?.content;
      text = typeof content === 'string' ? content : '';
      usage = json.usage;
    } else {
      let first = true;
      for await (const data of sseData(res.body, deadline)) {
        const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }>; usage?: Usage | null };
        if (chunk.usage) usage = chunk.usage;
        const delta = chunk.choices?.[0]?.delta?.content;
        if (typeof delta === 'string') text += delta;
        if (hideUsage && chunk.usage && (chunk.choices?.length ?? 0) === 0) continue;
        onChunk(Buffer.from(data, 'utf8'), first ? headers : undefined);
        first = false;
      }
    }
  } catch (err) {
    throw upstreamFailure(err, deadline, where, model.secrets);
  } finally {
    deadline.dispose();
  }
  if (deadline.cancelled) throw new TargetFailure('cancelled by the caller', { cancelled: true });
  const counted = usage?.prompt_tokens !== undefined && usage.completion_tokens !== undefined;
  return {
    promptTokens: counted ? usage!.prompt_tokens! : estimatePromptTokens(messages),
    completionTokens: counted ? usage!.completion_tokens! : estimateTokens(text),
    estimated: !counted,
    text,
    body: whole,
    headers,
  };
}

/**
 * The data of each server-sent event until `[DONE]`; every event counts as progress for the idle deadline. The body
 * is read to its end after `[DONE]` (the provider ends it right away): leaving the loop early would make undici
 * destroy the response with an AbortError, and build its stack, on every stream, and lose the keep-alive socket.
 */
async function* sseData(body: AsyncIterable<Buffer>, deadline: StreamDeadline): AsyncGenerator<string> {
  let buffered = '';
  let done = false;
  // A network read may end inside a multi-byte character: the decoder keeps the partial bytes for the next read.
  const decoder = new StringDecoder('utf8');
  for await (const piece of body) {
    deadline.progress();
    if (done) continue;
    buffered += decoder.write(piece);
    let end: number;
    while ((end = buffered.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5))
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') {
        done = true;
        break;
      }
      yield data;
    }
  }
}

/**
 * A provider's error answer as a TargetFailure: its status decides whether another target may be tried; the message
 * keeps the provider's own words (what the client needs to fix its request) with anything key-like removed.
 */
function providerError(status: number, headers: Record<string, string>, text: string, where: string, secrets: readonly string[]): TargetFailure {
  let message = text.slice(0, 2000);
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof json.error === 'string' ? json.error : (json.error?.message ?? json.message);
    if (typeof m === 'string') message = m;
  } catch {
    // not JSON: keep the text
  }
  const after = retryAfterMs(headers['retry-after']);
  return new TargetFailure(`${where}: HTTP ${status}: ${scrub(message, secrets)}`.trim(), { status, ...(after === undefined ? {} : { retryAfterMs: after }) });
}
