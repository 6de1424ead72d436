import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { Code, MomaError, codeForHttpStatus, codeName, httpStatusFor, isRetryable, parseCode, toGrpcStatus, fromGrpcStatus } from './errors.ts';

class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  readonly field = 'messages';
}

describe('errors', () => {
  it('errors - codes have the gRPC numeric values', () => {
    expect(Code).toMatchObject({
      OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
      PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, UNIMPLEMENTED: 12,
      INTERNAL: 13, UNAVAILABLE: 14,
    });
    expect(toGrpcStatus(Code.UNAVAILABLE)).toBe(14);
    expect(fromGrpcStatus(5)).toBe(Code.NOT_FOUND);
    expect(codeName(Code.DEADLINE_EXCEEDED)).toBe('DEADLINE_EXCEEDED');
  });

  it('errors - parseCode accepts numbers, numeric strings and names, else UNKNOWN', () => {
    expect(parseCode(3)).toBe(Code.INVALID_ARGUMENT);
    expect(parseCode('14')).toBe(Code.UNAVAILABLE);
    expect(parseCode('NOT_FOUND')).toBe(Code.NOT_FOUND);
    expect(parseCode('500')).toBe(Code.UNKNOWN);
    expect(parseCode('')).toBe(Code.UNKNOWN);
    expect(parseCode(undefined)).toBe(Code.UNKNOWN);
  });

  it('errors - from keeps a MomaError as is and wraps anything else with its cause', () => {
    const e = new MomaError(Code.NOT_FOUND, 'gone');
    expect(MomaError.from(e)).toBe(e);
    const plain = new Error('boom');
    const wrapped = MomaError.from(plain);
    expect(wrapped).toMatchObject({ code: Code.INTERNAL, message: 'boom' });
    expect(wrapped.cause).toBe(plain);
    expect(MomaError.from('text thrown')).toMatchObject({ code: Code.INTERNAL, message: 'text thrown' });
    expect(MomaError.from(null).message).toBe('unexpected error');
  });

  it('errors - InvalidInputError by name becomes INVALID_ARGUMENT with its field', () => {
    const e = MomaError.from(new InvalidInputError('messages must not be empty'));
    expect(e).toMatchObject({ code: Code.INVALID_ARGUMENT, message: 'messages must not be empty', details: { field: 'messages' } });
  });

  it('errors - zod errors become INVALID_ARGUMENT naming the paths', () => {
    const r = z.object({ model: z.string(), max_cost: z.number().min(0) }).safeParse({ max_cost: -1 });
    const e = MomaError.from(r.error);
    expect(e.code).toBe(Code.INVALID_ARGUMENT);
    expect(e.message).toMatch(/^invalid input: model: .+; max_cost: .+/);
  });

  it('errors - NATS timeouts and no-responders map to DEADLINE_EXCEEDED and UNAVAILABLE', () => {
    const timeout = new RequestError('timeout', { cause: new TimeoutError() });
    expect(MomaError.from(timeout).code).toBe(Code.DEADLINE_EXCEEDED);
    expect(MomaError.from(new TimeoutError()).code).toBe(Code.DEADLINE_EXCEEDED);
    const none = new RequestError('no responders', { cause: new NoRespondersError('moma.x') });
    expect(MomaError.from(none).code).toBe(Code.UNAVAILABLE);
  });

  it('errors - connection failures (Redis, sockets) map to UNAVAILABLE', () => {
    expect(MomaError.from(new Error("Stream isn't writeable and enableOfflineQueue options is false")).code).toBe(Code.UNAVAILABLE);
    expect(MomaError.from(new Error('Connection is closed.')).code).toBe(Code.UNAVAILABLE);
    expect(MomaError.from(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).code).toBe(Code.UNAVAILABLE);
    expect(MomaError.from(Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' })).code).toBe(Code.UNAVAILABLE);
  });

  it('errors - HTTP statuses follow the gRPC-gateway mapping', () => {
    expect(httpStatusFor(Code.INVALID_ARGUMENT)).toBe(400);
    expect(httpStatusFor(Code.NOT_FOUND)).toBe(404);
    expect(httpStatusFor(Code.ALREADY_EXISTS)).toBe(409);
    expect(httpStatusFor(Code.RESOURCE_EXHAUSTED)).toBe(429);
    expect(httpStatusFor(Code.CANCELLED)).toBe(499);
    expect(httpStatusFor(Code.INTERNAL)).toBe(500);
    expect(httpStatusFor(Code.UNIMPLEMENTED)).toBe(501);
    expect(httpStatusFor(Code.UNAVAILABLE)).toBe(503);
    expect(httpStatusFor(Code.DEADLINE_EXCEEDED)).toBe(504);
  });

  it('errors - only transient codes are retryable', () => {
    expect(isRetryable(Code.UNAVAILABLE)).toBe(true);
    expect(isRetryable(Code.DEADLINE_EXCEEDED)).toBe(true);
    expect(isRetryable(Code.RESOURCE_EXHAUSTED)).toBe(true);
    expect(isRetryable(Code.INVALID_ARGUMENT)).toBe(false);
    expect(isRetryable(Code.INTERNAL)).toBe(false);
    expect(new MomaError(Code.UNAVAILABLE, 'x').retryable).toBe(true);
  });

  it('errors - toJSON exposes code name and message, not the cause', () => {
    const e = new MomaError(Code.INVALID_ARGUMENT, 'bad mode', { cause: new Error('secret'), details: { field: 'mode' } });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'INVALID_ARGUMENT', message: 'bad mode', details: { field: 'mode' } });
  });

  it('errors - grpc-js service errors keep their status and details', () => {
    const grpcErr = Object.assign(new Error('14 UNAVAILABLE: executor down'), { code: 14, details: 'executor down', metadata: {} });
    expect(MomaError.from(grpcErr)).toMatchObject({ code: Code.UNAVAILABLE, message: 'executor down' });
    const notFound = Object.assign(new Error('5 NOT_FOUND: x'), { code: 5, details: 'no agent a1', metadata: {} });
    expect(MomaError.from(notFound)).toMatchObject({ code: Code.NOT_FOUND, message: 'no agent a1' });
  });

  it('errors - upstream HTTP errors map by status; fetch connection failures are UNAVAILABLE', () => {
    expect(MomaError.from(Object.assign(new Error('rate limited'), { name: 'RateLimitError', status: 429 })).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(MomaError.from(Object.assign(new Error('bad gateway'), { name: 'InternalServerError', status: 502 })).code).toBe(Code.UNAVAILABLE);
    expect(MomaError.from(Object.assign(new Error('Connection error.'), { name: 'APIConnectionError' })).code).toBe(Code.UNAVAILABLE);
    expect(MomaError.from(Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' })).code).toBe(Code.DEADLINE_EXCEEDED);
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(MomaError.from(fetchFailed).code).toBe(Code.UNAVAILABLE);
    expect(codeForHttpStatus(404)).toBe(Code.NOT_FOUND);
    expect(codeForHttpStatus(500)).toBe(Code.INTERNAL);
  });
});
