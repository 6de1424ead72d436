// One chat completion against an OpenAI-compatible provider: streamed (deltas relayed as they arrive) when the caller
// relays the answer as it comes, otherwise one non-streaming call whose whole answer is a single delta — no SSE
// parsing, one response body, and one event to write instead of one per piece.
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimatePromptTokens, estimateTokens } from './accounting.ts';
import { StreamDeadline } from './deadline.ts';
import { TargetFailure, upstreamFailure } from './failure.ts';
import type { ResolvedModel } from './providers.ts';

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

export interface Timeouts {
  firstTokenMs: number;
  idleMs: number;
}

export async function callLlm(
  model: ResolvedModel,
  input: ChatInput,
  onDelta: (text: string) => void,
  signal: AbortSignal,
  timeouts: Timeouts,
): Promise<CallResult> {
  if (!input.stream) return callLlmWhole(model, input, onDelta, signal, timeouts);
  const deadline = new StreamDeadline(signal, timeouts.firstTokenMs, timeouts.idleMs);
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
    throw upstreamFailure(err, deadline, where);
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
  // Only the first-token allowance applies: the whole answer is the first (and only) thing that arrives.
  const deadline = new StreamDeadline(signal, timeouts.firstTokenMs, timeouts.idleMs);
  let completion: ChatCompletion;
  try {
    completion = await model.client.chat.completions.create(
      {
        model: model.upstreamModel,
        messages: input.messages as ChatCompletionMessageParam[],
        ...(input.maxTokens > 0 ? { max_tokens: input.maxTokens } : {}),
        ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
      },
      { signal: deadline.signal },
    );
  } catch (err) {
    throw upstreamFailure(err, deadline, `provider ${model.provider}`);
  } finally {
    deadline.dispose();
  }
  if (deadline.cancelled) throw new TargetFailure('cancelled by the caller', { cancelled: true });
  const text = completion.choices?.[0]?.message?.content ?? '';
  if (text) onDelta(text);
  const usage = completion.usage;
  if (usage) return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, estimated: false };
  return { promptTokens: estimatePromptTokens(input.messages), completionTokens: estimateTokens(text), estimated: true };
}
