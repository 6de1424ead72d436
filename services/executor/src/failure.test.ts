import { describe, expect, it } from 'vitest';
import { isRetryableStatus, retryAfterMs, TargetFailure } from './failure.ts';

describe('executor failure', () => {
  it.each([
    [408, true],
    [409, true],
    [429, true],
    [500, true],
    [503, true],
    [400, false],
    [401, false],
    [404, false],
    [422, false],
  ])('failure - status %i is retryable: %s', (status, retryable) => {
    expect(isRetryableStatus(status)).toBe(retryable);
    expect(new TargetFailure('x', { status }).retryable).toBe(retryable);
  });

  it('failure - a failure without a status (connection, timeout) is retryable', () => {
    expect(new TargetFailure('x', { connection: true }).retryable).toBe(true);
    expect(new TargetFailure('x', { timeout: 'first_byte' }).retryable).toBe(true);
  });

  it.each([
    ['7', 7_000],
    ['0', 0],
    ['1.5', 1_500],
    ['Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('failure - Retry-After %j is %j ms', (value, ms) => {
    expect(retryAfterMs(value, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(ms);
  });
});
