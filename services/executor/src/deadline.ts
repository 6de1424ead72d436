// One abort signal per upstream attempt: it fires when the caller cancels, when the first token is late, or when
// a started stream goes silent. Which of these happened decides the error the attempt reports.

export class StreamDeadline {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal;
  readonly #idleMs: number;
  readonly #onParentAbort = () => this.#controller.abort(this.#parent.reason);
  #timer: NodeJS.Timeout;
  #started = false;
  #timedOut: string | undefined;

  constructor(parent: AbortSignal, firstTokenMs: number, idleMs: number) {
    this.#parent = parent;
    this.#idleMs = idleMs;
    this.#timer = setTimeout(() => this.#expire(`no response within ${firstTokenMs} ms`), firstTokenMs);
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

  /** The caller went away (gRPC cancel / deadline); no fallback should follow. */
  get cancelled(): boolean {
    return this.#parent.aborted;
  }

  /** Call on every chunk received: the first switches from the first-token to the idle allowance. */
  progress(): void {
    if (this.#started) {
      this.#timer.refresh();
      return;
    }
    this.#started = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire(`stream idle for ${this.#idleMs} ms`), this.#idleMs);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#parent.removeEventListener('abort', this.#onParentAbort);
  }

  #expire(reason: string): void {
    this.#timedOut = reason;
    this.#controller.abort(new Error(reason));
  }
}
