// One error model for every boundary: NATS replies, gRPC status, HTTP status. Anything caught at a boundary goes
// through `MomaError.from` so the caller sees a stable code, a readable message, and (in logs) the original cause.

/** gRPC status codes (same numeric values as grpc-js `status`). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, keyof typeof Code>(
  (Object.entries(Code) as Array<[keyof typeof Code, Code]>).map(([name, value]) => [value, name]),
);

/** "INVALID_ARGUMENT" for 3; "UNKNOWN" for a number that is not a code. */
export function codeName(code: number): keyof typeof Code {
  return codeNames.get(code) ?? 'UNKNOWN';
}

/** Parses a code from a number, a numeric string or a name ("NOT_FOUND"); UNKNOWN when it is none of these. */
export function parseCode(raw: unknown): Code {
  if (typeof raw === 'number' && codeNames.has(raw)) return raw as Code;
  if (typeof raw === 'string') {
    const n = Number(raw);
    if (raw.trim() !== '' && Number.isInteger(n) && codeNames.has(n)) return n as Code;
    if (raw in Code) return Code[raw as keyof typeof Code];
  }
  return Code.UNKNOWN;
}

export interface MomaErrorOptions {
  cause?: unknown;
  /** Structured details safe to return to a client (e.g. the offending field). */
  details?: Record<string, unknown>;
}

export class MomaError extends Error {
  override readonly name = 'MomaError';
  readonly code: Code;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: Code, message: string, options: MomaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  get codeName(): keyof typeof Code {
    return codeName(this.code);
  }

  get retryable(): boolean {
    return isRetryable(this.code);
  }

  /** Normalises anything thrown into a MomaError; an existing MomaError is returned as is. */
  static from(err: unknown, fallback: Code = Code.INTERNAL): MomaError {
    if (err instanceof MomaError) return err;
    return classify(err, fallback);
  }

  static invalidArgument(message: string, details?: Record<string, unknown>): MomaError {
    return new MomaError(Code.INVALID_ARGUMENT, message, details ? { details } : {});
  }
  static notFound(message: string): MomaError {
    return new MomaError(Code.NOT_FOUND, message);
  }
  static unavailable(message: string, cause?: unknown): MomaError {
    return new MomaError(Code.UNAVAILABLE, message, { cause });
  }
  static deadlineExceeded(message: string, cause?: unknown): MomaError {
    return new MomaError(Code.DEADLINE_EXCEEDED, message, { cause });
  }
  static internal(message: string, cause?: unknown): MomaError {
    return new MomaError(Code.INTERNAL, message, { cause });
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details
      ? { code: this.codeName, message: this.message, details: this.details }
      : { code: this.codeName, message: this.message };
  }
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  issues?: unknown;
  field?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | undefined {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : undefined;
}

// Node socket errors that mean "the dependency is not there" (Redis/NATS/HTTP upstream down).
const connectionErrnos = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

function classify(err: unknown, fallback: Code): MomaError {
  const e = asErrorLike(err);
  if (!e) {
    return new MomaError(fallback, typeof err === 'string' && err ? err : 'unexpected error', { cause: err });
  }
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' && e.message ? e.message : name || 'unexpected error';
  const errno = typeof e.code === 'string' ? e.code : '';

  // Routing core rejects input by name (the platform does not import @moma/core).
  if (name === 'InvalidInputError') {
    const details = typeof e.field === 'string' ? { field: e.field } : undefined;
    return new MomaError(Code.INVALID_ARGUMENT, message, details ? { cause: err, details } : { cause: err });
  }
  if (name === 'ZodError' && Array.isArray(e.issues)) {
    return new MomaError(Code.INVALID_ARGUMENT, formatZodIssues(e.issues), { cause: err });
  }
  if (name === 'AbortError') return new MomaError(Code.CANCELLED, message, { cause: err });

  // NATS (nats-core v3): a RequestError wraps NoResponders or TimeoutError as its cause.
  if (name === 'NoResponders' || name === 'NoRespondersError') {
    return new MomaError(Code.UNAVAILABLE, `no service is listening: ${message}`, { cause: err });
  }
  if (name === 'TimeoutError') return new MomaError(Code.DEADLINE_EXCEEDED, 'deadline exceeded', { cause: err });
  if (name === 'RequestError' && e.cause !== undefined) {
    const inner = classify(e.cause, fallback);
    return new MomaError(inner.code, inner.message, { cause: err });
  }
  if (name === 'ClosedConnectionError' || name === 'DrainingConnectionError' || name === 'ConnectionError') {
    return new MomaError(Code.UNAVAILABLE, `message bus unavailable: ${message}`, { cause: err });
  }
  if (name === 'PermissionViolationError' || name === 'AuthorizationError') {
    return new MomaError(Code.PERMISSION_DENIED, message, { cause: err });
  }

  // ioredis: offline queue disabled / retries exhausted / closed connection.
  if (
    name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|enableOfflineQueue|Connection is closed|connect ETIMEDOUT|Command timed out/i.test(message)
  ) {
    return new MomaError(Code.UNAVAILABLE, `store unavailable: ${message}`, { cause: err });
  }
  if (connectionErrnos.has(errno) || connectionErrnos.has(causeErrno(e))) {
    return new MomaError(Code.UNAVAILABLE, `dependency unavailable: ${message}`, { cause: err });
  }

  // grpc-js ServiceError: numeric status in `code`, the server's message in `details`.
  const details = (e as { details?: unknown }).details;
  if (typeof e.code === 'number' && typeof details === 'string' && 'metadata' in e) {
    const code = parseCode(e.code);
    return new MomaError(code === Code.OK ? Code.UNKNOWN : code, details || message, { cause: err });
  }

  // HTTP client errors (openai SDK and similar) carry the upstream status.
  if (name === 'APIConnectionTimeoutError') return new MomaError(Code.DEADLINE_EXCEEDED, message, { cause: err });
  if (name === 'APIConnectionError') return new MomaError(Code.UNAVAILABLE, message, { cause: err });
  const status = (e as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status <= 599) {
    return new MomaError(codeForHttpStatus(status), message, { cause: err });
  }
  if (err instanceof SyntaxError) return new MomaError(Code.INVALID_ARGUMENT, message, { cause: err });
  return new MomaError(fallback, message, { cause: err });
}

function causeErrno(e: ErrorLike): string {
  const c = asErrorLike(e.cause);
  return c && typeof c.code === 'string' ? c.code : '';
}

function formatZodIssues(issues: unknown[]): string {
  const parts = issues.slice(0, 5).map((raw) => {
    const issue = asErrorLike(raw) as { path?: unknown; message?: unknown } | undefined;
    const path = Array.isArray(issue?.path) && issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${typeof issue?.message === 'string' ? issue.message : 'invalid'}`;
  });
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
  return `invalid input: ${parts.join('; ')}${more}`;
}

/** The grpc-js status number for a code (identical values; kept as a function so callers don't depend on that). */
export function toGrpcStatus(code: Code): number {
  return code;
}

/** Maps a gRPC status number (e.g. from a ServiceError) back to a Code. */
export function fromGrpcStatus(status: number): Code {
  return parseCode(status);
}

const httpStatus: Record<Code, number> = {
  [Code.OK]: 200,
  [Code.CANCELLED]: 499,
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.DEADLINE_EXCEEDED]: 504,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
  [Code.PERMISSION_DENIED]: 403,
  [Code.RESOURCE_EXHAUSTED]: 429,
  [Code.FAILED_PRECONDITION]: 400,
  [Code.ABORTED]: 409,
  [Code.OUT_OF_RANGE]: 400,
  [Code.UNIMPLEMENTED]: 501,
  [Code.INTERNAL]: 500,
  [Code.UNAVAILABLE]: 503,
  [Code.DATA_LOSS]: 500,
  [Code.UNAUTHENTICATED]: 401,
};

/** HTTP status for a code (the mapping of google.rpc / grpc-gateway). */
export function httpStatusFor(code: Code): number {
  return httpStatus[code] ?? 500;
}

/** The code for an HTTP status received from an upstream (provider, agent). */
export function codeForHttpStatus(status: number): Code {
  if (status === 400 || status === 422) return Code.INVALID_ARGUMENT;
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status === 404) return Code.NOT_FOUND;
  if (status === 408 || status === 504) return Code.DEADLINE_EXCEEDED;
  if (status === 409) return Code.ABORTED;
  if (status === 429) return Code.RESOURCE_EXHAUSTED;
  if (status === 499) return Code.CANCELLED;
  if (status === 501) return Code.UNIMPLEMENTED;
  if (status === 502 || status === 503) return Code.UNAVAILABLE;
  if (status >= 500) return Code.INTERNAL;
  if (status >= 400) return Code.FAILED_PRECONDITION;
  return Code.UNKNOWN;
}

/** Whether retrying the same call (or falling back to another instance/target) can help. */
export function isRetryable(code: Code): boolean {
  return code === Code.UNAVAILABLE || code === Code.DEADLINE_EXCEEDED || code === Code.RESOURCE_EXHAUSTED || code === Code.ABORTED;
}
