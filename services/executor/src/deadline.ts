// One abort signal per upstream attempt: it fires when the caller cancels, when the first byte is late, when a
// started stream goes silent, when a non-streaming answer takes longer than its total allowance, or when the
// request's own deadline (shared by all its attempts) passes. Which of these happened decides the error reported.

/** Which allowance ran out. */
export type TimeoutKind = 'first_byte' | 'idle' | 'total' | 'deadline';

export interface Timeouts {
  /** Until the first byte: a stream's first event, a non-streaming answer's response headers, an agent's first event. */
  firstTokenMs: number;
  /** Longest silence inside a started stream. */
  idleMs: number;
  /** A non-streaming answer, headers to last byte, from the start of the attempt; 0 = none. */
  totalMs?: number;
  /** `performance.now()` at which the whole request must be over (every attempt of it); undefined = none. */
  deadlineAt?: number;
}

export class StreamDeadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  readonly #idleMs: number;
  readonly #onParentAbort = () => this.#controller.abort(this.#parent.reason);
  #timer: NodeJS.Timeout;
  #total: NodeJS.Timeout | undefined;
  #request: NodeJS.Timeout | undefined;
  #started = false;
  #timedOut: string | undefined;
  #kind: TimeoutKind | undefined;

  constructor(parent: AbortSignal, timeouts: Timeouts) {
    this.#parent = parent;
    this.#idleMs = timeouts.idleMs;
    this.#timer = setTimeout(() => this.#expire('first_byte', `no response within ${timeouts.firstTokenMs} ms`), timeouts.firstTokenMs);
    if (timeouts.totalMs) this.#total = setTimeout(() => this.#expire('total', `answer not complete within ${timeouts.totalMs} ms`), timeouts.totalMs);
    if (timeouts.deadlineAt !== undefined) {
      const left = Math.max(0, timeouts.deadlineAt - performance.now());
      this.#request = setTimeout(() => this.#expire('deadline', 'request deadline exceeded'), left);
    }
    if (parent.aborted) this.#controller.abort(parent.reason);
    else parent.addEventListener('abort', this.#onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the attempt timed out, or undefined when it did not. */
  get timedOut(): string | undefined {
    return this.#timedOut;
  }

  get timeoutKind(): TimeoutKind | undefined {
    return this.#kind;
  }

  /** The caller went away (gRPC cancel / deadline); no fallback should follow. */
  get cancelled(): boolean {
    return this.#parent.aborted;
  }

  /** Streams: call on every chunk received; the first switches from the first-byte to the idle allowance. */
  progress(): void {
    if (this.#started) {
      this.#timer.refresh();
      return;
    }
    this.#started = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire('idle', `stream idle for ${this.#idleMs} ms`), this.#idleMs);
  }

  /** Non-streaming answers: the response headers arrived; from now on only the total allowance (and the request's) applies. */
  firstByte(): void {
    this.#started = true;
    clearTimeout(this.#timer);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#total);
    clearTimeout(this.#request);
    this.#parent.removeEventListener('abort', this.#onParentAbort);
  }

  #expire(kind: TimeoutKind, reason: string): void {
    if (this.#timedOut !== undefined || this.#controller.signal.aborted) return;
    this.#timedOut = reason;
    this.#kind = kind;
    this.#controller.abort(new Error(reason));
  }
}
