// What went wrong with one target, in words an operator can act on ("HTTP 503 from provider local", "connection
// refused"), so the final UNAVAILABLE message lists every attempt usefully.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { StreamDeadline } from './deadline.ts';

/** HTTP statuses a provider may answer differently next time or elsewhere; the others are the request's fault. */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

/**
 * A target's call failed; `cancelled` means the caller went away (no fallback, no error to report). `status` is the
 * provider's HTTP status when it answered; `retryable` false (a 400, 401, 403, 404, 422 from the provider) means
 * the request itself is at fault, so no other target is tried and the client gets that status.
 */
export class TargetFailure extends Error {
  override readonly name = 'TargetFailure';
  readonly cancelled: boolean;
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** The provider's Retry-After, in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: { cause?: unknown; cancelled?: boolean; status?: number; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.cancelled = options.cancelled ?? false;
    this.status = options.status;
    this.retryable = options.retryable ?? (options.status === undefined || isRetryableStatus(options.status));
    this.retryAfterMs = options.retryAfterMs;
  }
}

function errno(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** Normalises an error thrown while calling an upstream (OpenAI client, A2A client, fetch) into a TargetFailure. */
export function upstreamFailure(err: unknown, deadline: StreamDeadline, where: string): TargetFailure {
  if (err instanceof TargetFailure) return err;
  if (deadline.cancelled) return new TargetFailure('cancelled by the caller', { cause: err, cancelled: true });
  if (deadline.timedOut) return new TargetFailure(`${where}: ${deadline.timedOut}`, { cause: err });
  if (err instanceof APIUserAbortError) return new TargetFailure(`${where}: aborted`, { cause: err });
  if (err instanceof APIConnectionTimeoutError) return new TargetFailure(`${where}: request timed out`, { cause: err });
  if (err instanceof APIConnectionError) {
    const code = errno(err);
    return new TargetFailure(`${where}: connection failed${code ? ` (${code})` : ''}`, { cause: err });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const detail = typeof err.error === 'object' && err.error && 'message' in err.error ? String(err.error.message) : err.message;
    return new TargetFailure(`${where}: HTTP ${err.status} ${detail}`.trim(), { cause: err });
  }
  const code = errno(err);
  const message = err instanceof Error ? err.message : String(err);
  return new TargetFailure(`${where}: ${code && !message.includes(code) ? `${code} ` : ''}${message}`, { cause: err });
}
