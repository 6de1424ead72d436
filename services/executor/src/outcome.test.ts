// What a request that no attempt served ends with: the code, details.upstreamStatus and details.retryAfterSeconds the
// gateway turns into an HTTP status and headers, and the attempts summary.
import { describe, expect, it } from 'vitest';
import { Code } from '@moma/platform';
import { TargetFailure } from './failure.ts';
import { failedError, refusedError, type AttemptEntry, type AttemptLog } from './outcome.ts';

const NOW = 1_700_000_000_000;
const limits = { maxAttempts: 3, requestTimeoutMs: 60_000 };
const entry = (outcome: string, until?: number): AttemptEntry => ({ target: 'llm:m', provider: 'p', outcome, message: `llm:m: ${outcome}`, until });
const log = (entries: AttemptEntry[], last?: TargetFailure, stopped?: AttemptLog['stopped']): AttemptLog => ({ entries, attempts: entries.length, last, stopped });

describe('executor outcome', () => {
  it.each([
    ['the last answer was a 5xx → UNAVAILABLE, upstreamStatus 502', log([entry('http_500')], new TargetFailure('x', { status: 500 })), Code.UNAVAILABLE, { upstreamStatus: 502 }],
    ['a connection error last → UNAVAILABLE, no status', log([entry('http_500'), entry('connection_error')], new TargetFailure('x', { connection: true })), Code.UNAVAILABLE, {}],
    ['a timeout last → DEADLINE_EXCEEDED', log([entry('timeout_first_byte')], new TargetFailure('x', { timeout: 'first_byte' })), Code.DEADLINE_EXCEEDED, {}],
    ['the request deadline → DEADLINE_EXCEEDED', log([entry('http_500')], new TargetFailure('x', { status: 500 }), 'deadline'), Code.DEADLINE_EXCEEDED, {}],
    ['429s with Retry-After → UNAVAILABLE with the earliest', log([entry('http_429', NOW + 7_000), entry('skipped_rate_limited', NOW + 2_500)], new TargetFailure('x', { status: 429 })), Code.UNAVAILABLE, { retryAfterSeconds: 3 }],
    ['one deployment without a known return → no retry-after', log([entry('http_429', NOW + 7_000), entry('connection_error')], new TargetFailure('x', { connection: true })), Code.UNAVAILABLE, {}],
    ['only open breakers → UNAVAILABLE with retry-after', log([entry('skipped_breaker_open', NOW + 30_000)]), Code.UNAVAILABLE, { retryAfterSeconds: 30 }],
  ])('outcome - %s', (_name, l, code, extra) => {
    const e = failedError(l, 2, limits, undefined, NOW);
    expect(e.code).toBe(code);
    expect(e.details).toEqual({ attempts: l.entries.map(({ target, provider, outcome }) => ({ target, provider, outcome })), ...extra });
  });

  it('outcome - the message says why it stopped and lists every attempt', () => {
    expect(failedError(log([entry('http_500')], undefined, 'attempts'), 3, limits).message).toBe('gave up after 1 attempt(s) (MOMA_MAX_ATTEMPTS=3): llm:m: http_500');
    expect(failedError(log([]), 1, limits).message).toBe('all 1 target(s) failed: nothing was tried');
  });

  it('outcome - a stream that broke after output began keeps its own message and has no upstream status', () => {
    const e = failedError(log([entry('failed_after_output')], new TargetFailure('provider p: socket closed')), 2, limits, 'llm:m');
    expect(e.code).toBe(Code.UNAVAILABLE);
    expect(e.message).toBe('llm:m failed after output began (no fallback, to avoid mixing answers): provider p: socket closed');
    expect(e.details?.upstreamStatus).toBeUndefined();
  });

  it.each([
    [400, Code.INVALID_ARGUMENT],
    [401, Code.UNAUTHENTICATED],
    [403, Code.PERMISSION_DENIED],
    [404, Code.NOT_FOUND],
    [422, Code.INVALID_ARGUMENT],
    [413, Code.INVALID_ARGUMENT],
  ])('outcome - a provider refusal %i keeps its status', (status, code) => {
    const e = refusedError(new TargetFailure('no', { status }), log([entry(`http_${status}`)]));
    expect(e.code).toBe(code);
    expect(e.details).toMatchObject({ upstreamStatus: status });
  });
});
