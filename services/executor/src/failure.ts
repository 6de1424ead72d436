// What went wrong with one target, in words an operator can act on ("HTTP 503 from provider local", "connection
// refused"), so the final UNAVAILABLE message lists every attempt usefully, plus the facts the error policy decides
// on: the provider's status, whether another attempt may help, its Retry-After, and which allowance ran out.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { StreamDeadline, TimeoutKind } from './deadline.ts';
import { scrub } from './scrub.ts';

/** HTTP statuses a provider may answer differently next time or elsewhere; the others are the request's fault. */
export const isRetryableStatus = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

/** Retry-After as ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export interface TargetFailureOptions {
  cause?: unknown;
  cancelled?: boolean;
  status?: number;
  retryable?: boolean;
  retryAfterMs?: number;
  timeout?: TimeoutKind;
  /** The connection failed before any answer (refused, reset, DNS). */
  connection?: boolean;
}

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
  /** Which allowance ran out, when the attempt timed out. */
  readonly timeout: TimeoutKind | undefined;
  readonly connection: boolean;
  constructor(message: string, options: TargetFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.cancelled = options.cancelled ?? false;
    this.status = options.status;
    this.retryable = options.retryable ?? (options.status === undefined || isRetryableStatus(options.status));
    this.retryAfterMs = options.retryAfterMs;
    this.timeout = options.timeout;
    this.connection = options.connection ?? false;
  }
}

function errno(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

// Socket-level failures (undici's own codes included): the provider never answered.
const CONNECTION = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_SOCKET|UND_ERR_CONNECT_TIMEOUT|UND_ERR_CLOSED)$/;

function connectionCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION.test(code)) return code;
  }
  return undefined;
}

/**
 * Normalises an error thrown while calling an upstream (OpenAI client, A2A client, fetch) into a TargetFailure.
 * `secrets` (the provider's key) are removed from any provider text kept in the message.
 */
export function upstreamFailure(err: unknown, deadline: StreamDeadline, where: string, secrets: readonly string[] = []): TargetFailure {
  if (err instanceof TargetFailure) return err;
  if (deadline.cancelled) return new TargetFailure('cancelled by the caller', { cause: err, cancelled: true });
  if (deadline.timedOut) return new TargetFailure(`${where}: ${deadline.timedOut}`, { cause: err, timeout: deadline.timeoutKind });
  if (err instanceof APIUserAbortError) return new TargetFailure(`${where}: aborted`, { cause: err });
  if (err instanceof APIConnectionTimeoutError) return new TargetFailure(`${where}: request timed out`, { cause: err, timeout: 'first_byte' });
  if (err instanceof APIConnectionError) {
    const code = errno(err);
    return new TargetFailure(`${where}: connection failed${code ? ` (${code})` : ''}`, { cause: err, connection: true });
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const detail = typeof err.error === 'object' && err.error && 'message' in err.error ? String(err.error.message) : err.message;
    const after = retryAfterMs(err.headers?.get('retry-after'));
    return new TargetFailure(`${where}: HTTP ${err.status} ${scrub(detail, secrets)}`.trim(), {
      cause: err,
      status: err.status,
      ...(after === undefined ? {} : { retryAfterMs: after }),
    });
  }
  const code = errno(err);
  const conn = connectionCode(err);
  if (conn) return new TargetFailure(`${where}: connection failed (${conn})`, { cause: err, connection: true });
  const message = err instanceof Error ? err.message : String(err);
  return new TargetFailure(`${where}: ${code && !message.includes(code) ? `${code} ` : ''}${scrub(message, secrets)}`, { cause: err });
}
