// One chat completion against an OpenAI-compatible provider for typed callers (gRPC/text, no raw body): streamed
// through the OpenAI client (deltas relayed as they arrive) when the caller relays the answer as it comes, otherwise
// one non-streaming call whose whole answer is a single delta — sent like a forwarded body, so its first byte is the
// response headers and the answer then has the total allowance (the client's own timeout would cover the whole body).
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimatePromptTokens, estimateTokens } from './accounting.ts';
import { StreamDeadline, type Timeouts } from './deadline.ts';
import { TargetFailure, upstreamFailure } from './failure.ts';
import { forwardChat } from './llm-forward.ts';
import type { ResolvedModel } from './providers.ts';

export type { Timeouts };

export interface ChatInput {
  messages: ReadonlyArray<{ role: string; content: string }>;
  /** 0 = provider default. */
  maxTokens: number;
  temperature: number | undefined;
  /** false = call the upstream non-streaming (the caller only needs the whole answer). */
  stream: boolean;
}

export interface CallResult {
  promptTokens: number;
  completionTokens: number;
  /** True when the provider reported no usage and the counts are estimates. */
  estimated: boolean;
}

export async function callLlm(
  model: ResolvedModel,
  input: ChatInput,
  onDelta: (text: string) => void,
  signal: AbortSignal,
  timeouts: Timeouts,
): Promise<CallResult> {
  if (!input.stream) return callLlmWhole(model, input, onDelta, signal, timeouts);
  const deadline = new StreamDeadline(signal, { ...timeouts, totalMs: 0 });
  const where = `provider ${model.provider}`;
  let text = '';
  let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  try {
    const stream = await model.client.chat.completions.create(
      {
        model: model.upstreamModel,
        messages: input.messages as ChatCompletionMessageParam[],
        stream: true,
        stream_options: { include_usage: true },
        ...(input.maxTokens > 0 ? { max_tokens: input.maxTokens } : {}),
        ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
      },
      { signal: deadline.signal },
    );
    for await (const chunk of stream) {
      deadline.progress();
      if (chunk.usage) usage = chunk.usage;
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) {
        text += delta;
        onDelta(delta);
      }
    }
  } catch (err) {
    throw upstreamFailure(err, deadline, where, model.secrets);
  } finally {
    deadline.dispose();
  }
  if (deadline.cancelled) throw new TargetFailure('cancelled by the caller', { cancelled: true });
  if (usage) return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, estimated: false };
  return { promptTokens: estimatePromptTokens(input.messages), completionTokens: estimateTokens(text), estimated: true };
}

async function callLlmWhole(
  model: ResolvedModel,
  input: ChatInput,
  onDelta: (text: string) => void,
  signal: AbortSignal,
  timeouts: Timeouts,
): Promise<CallResult> {
  const body = {
    messages: input.messages,
    ...(input.maxTokens > 0 ? { max_tokens: input.maxTokens } : {}),
    ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
  };
  const r = await forwardChat(model, body, input.messages, () => undefined, signal, timeouts);
  if (r.text) onDelta(r.text);
  return { promptTokens: r.promptTokens, completionTokens: r.completionTokens, estimated: r.estimated };
}
