// @moma/core/wire: the other APIs MoMA's gateway speaks (Anthropic Messages, OpenAI Responses), translated to and
// from OpenAI Chat Completions as pure functions. Light on purpose (no encoder, no tokenizer, no I/O), like
// @moma/core/rules, so the gateway can load it.
export { sseText, chatUsage, chatAnswer, chunkParts, parseArguments, type Json, type SseEvent, type TokenCounts, type ChatAnswer } from './common.ts';
export {
  anthropicToChat,
  chatToAnthropicMessage,
  anthropicStop,
  anthropicUsage,
  anthropicError,
  anthropicErrorType,
  AnthropicStream,
  type AnthropicToChat,
  type AnthropicAnswerContext,
  type AnthropicStopReason,
} from './anthropic.ts';
export {
  responsesToChat,
  chatToResponse,
  responseObject,
  responseStatus,
  responsesUsage,
  ResponsesStream,
  type ResponsesToChat,
  type ResponsesEcho,
  type ResponsesAnswerContext,
} from './responses.ts';
