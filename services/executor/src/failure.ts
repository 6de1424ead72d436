// What went wrong with one target, in words an operator can act on ("HTTP 503 from provider local", "connection
// refused"), so the final UNAVAILABLE message lists every attempt usefully.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { StreamDeadline } from './deadline.ts';

/** A target's call failed; `cancelled` means the caller went away (no fallback, no error to report). */
export class TargetFailure extends Error {
  override readonly name = 'TargetFailure';
  readonly cancelled: boolean;
  constructor(message: string, options: { cause?: unknown; cancelled?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.cancelled = options.cancelled ?? false;
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
