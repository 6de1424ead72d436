// What crosses the bus besides the protobuf payload: the error headers of the NATS services protocol (so
// `nats micro` tooling shows them too) carrying our gRPC-like code, and an absolute deadline.
import { Code, MomaError, parseCode } from './errors.ts';
import type { HeaderCarrier } from './bus-trace.ts';
import type { Codec, Logger } from './contracts.ts';

/** Same header names as @nats-io/services `ServiceErrorHeader` / `ServiceErrorCodeHeader`. */
export const ERROR_HEADER = 'Nats-Service-Error';
export const ERROR_CODE_HEADER = 'Nats-Service-Error-Code';
/** Absolute deadline (epoch ms) so a handler can skip work whose caller has already given up. */
export const DEADLINE_HEADER = 'Moma-Deadline';

/** Error message in a header: single line, bounded (headers are not for stack traces). */
export function headerSafe(message: string): string {
  const line = message.replace(/[\r\n]+/g, ' ');
  return line.length > 512 ? `${line.slice(0, 511)}…` : line;
}

/** The error a reply carries, or undefined for a success reply. */
export function errorFromHeaders(h: HeaderCarrier | undefined, subject: string): MomaError | undefined {
  const raw = h?.get(ERROR_CODE_HEADER);
  if (raw === undefined || raw === '') return undefined;
  const code = parseCode(raw);
  const message = h?.get(ERROR_HEADER) || `${subject} failed`;
  return new MomaError(code === Code.OK ? Code.UNKNOWN : code, message, { details: { subject } });
}

export function encodeOrThrow<T>(codec: Codec<T>, msg: T, what: string): Uint8Array {
  try {
    return codec.encode(msg).finish();
  } catch (err) {
    throw new MomaError(Code.INTERNAL, `cannot encode ${what}: ${(err as Error).message}`, { cause: err });
  }
}

export function decodeOrThrow<T>(codec: Codec<T>, data: Uint8Array, what: string, code: Code): T {
  try {
    return codec.decode(data);
  } catch (err) {
    throw new MomaError(code, `cannot decode ${what}: ${(err as Error).message}`, { cause: err });
  }
}

/** Whether the caller's deadline (from the header) has already passed. */
export function deadlinePassed(h: HeaderCarrier | undefined, now = Date.now()): boolean {
  const raw = h?.get(DEADLINE_HEADER);
  if (!raw) return false;
  const deadline = Number(raw);
  return Number.isFinite(deadline) && now > deadline;
}

/** Minimal header map for the memory bus. */
export class MapHeaders implements HeaderCarrier {
  readonly map = new Map<string, string>();
  get(key: string): string | undefined {
    return this.map.get(key);
  }
  set(key: string, value: string): void {
    this.map.set(key, value);
  }
  keys(): Iterable<string> {
    return this.map.keys();
  }
}

/** Handler failures: bugs (INTERNAL/UNKNOWN) are errors; rejections of bad requests are debug noise. */
export function logHandlerError(logger: Logger | undefined, subject: string, e: MomaError): void {
  if (!logger) return;
  const fields = { subject, code: e.codeName, err: e.cause ?? e };
  if (e.code === Code.INTERNAL || e.code === Code.UNKNOWN) logger.error(fields, 'handler failed');
  else logger.debug(fields, 'handler rejected request');
}
