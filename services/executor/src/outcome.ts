// The error a request ends with when no attempt served it, built from what each attempt (or skip) came to. Its code
// says what the client should make of it — DEADLINE_EXCEEDED (504) when time ran out, UNAVAILABLE (503) otherwise,
// with details.upstreamStatus 502 when the last provider to answer answered 5xx — and its details carry what the
// gateway puts in the error body: `attempts` (target, provider, outcome; never provider text, which could echo a
// key) and `retryAfterSeconds` when every deployment tried or skipped said when it would be back.
import { Code, MomaError } from '@moma/platform';
import type { TargetFailure } from './failure.ts';

/** One line of `details.attempts`. */
export interface AttemptSummary {
  /** "llm:<model>" / "agent:<id>". */
  target: string;
  /** The provider's name from MOMA_PROVIDERS ('' for agents and targets no provider serves). */
  provider: string;
  /**
   * `http_<status>`, `timeout_first_byte`, `timeout_idle`, `timeout_total`, `deadline`, `connection_error`,
   * `failed_after_output`, `error`, `skipped_rate_limited`, `skipped_breaker_open`, `no_provider`.
   */
  outcome: string;
}

export interface AttemptEntry extends AttemptSummary {
  /** For the error message (operators): provider text already scrubbed of keys. */
  message: string;
  /** Epoch ms from which this deployment expects to be back (Retry-After, open breaker); undefined = not known. */
  until: number | undefined;
}

export interface AttemptLog {
  entries: AttemptEntry[];
  /** Upstream calls made. */
  attempts: number;
  /** The last call's failure. */
  last: TargetFailure | undefined;
  /** Why the executor stopped before running out of candidates. */
  stopped: 'attempts' | 'deadline' | undefined;
}

/** details.attempts is bounded; the message still lists everything. */
const MAX_SUMMARY = 20;

const summary = (log: AttemptLog): AttemptSummary[] => log.entries.slice(0, MAX_SUMMARY).map(({ target, provider, outcome }) => ({ target, provider, outcome }));

/** Provider statuses that mean the same to the client; the status itself travels as details.upstreamStatus. */
const REFUSED: Record<number, Code> = { 400: Code.INVALID_ARGUMENT, 401: Code.UNAUTHENTICATED, 403: Code.PERMISSION_DENIED, 404: Code.NOT_FOUND, 422: Code.INVALID_ARGUMENT };

/** The provider refused the request itself: the client gets that status, and no other target is tried. */
export function refusedError(f: TargetFailure, log: AttemptLog): MomaError {
  return new MomaError(REFUSED[f.status ?? 400] ?? Code.INVALID_ARGUMENT, f.message, { cause: f, details: { upstreamStatus: f.status, attempts: summary(log) } });
}

/**
 * Every attempt failed or was skipped, the attempt cap was reached, or the deadline passed; `afterOutput` names the
 * target whose stream broke after output began (no fallback then).
 */
export function failedError(
  log: AttemptLog,
  candidates: number,
  limits: { maxAttempts: number; requestTimeoutMs: number },
  afterOutput?: string,
  now = Date.now(),
): MomaError {
  const attempts = summary(log);
  const last = log.last;
  if (afterOutput && last) {
    const message = `${afterOutput} failed after output began (no fallback, to avoid mixing answers): ${last.message}`;
    return new MomaError(last.timeout === 'deadline' ? Code.DEADLINE_EXCEEDED : Code.UNAVAILABLE, message, { cause: last, details: { attempts } });
  }
  const head =
    log.stopped === 'attempts'
      ? `gave up after ${log.attempts} attempt(s) (MOMA_MAX_ATTEMPTS=${limits.maxAttempts})`
      : log.stopped === 'deadline'
        ? `request deadline of ${limits.requestTimeoutMs} ms exceeded (EXECUTOR_REQUEST_TIMEOUT_MS)`
        : `all ${candidates} target(s) failed`;
  const message = `${head}: ${log.entries.map((e) => e.message).join('; ') || 'nothing was tried'}`;
  const options = last ? { cause: last } : {};
  if (log.stopped === 'deadline' || last?.timeout !== undefined) return new MomaError(Code.DEADLINE_EXCEEDED, message, { ...options, details: { attempts } });
  const untils = log.entries.map((e) => e.until);
  const known = untils.length > 0 && untils.every((u) => u !== undefined);
  const retryAfterSeconds = known ? Math.max(1, Math.ceil((Math.min(...(untils as number[])) - now) / 1000)) : undefined;
  return new MomaError(Code.UNAVAILABLE, message, {
    ...options,
    details: {
      attempts,
      ...(last?.status !== undefined && last.status >= 500 ? { upstreamStatus: 502 } : {}),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  });
}
