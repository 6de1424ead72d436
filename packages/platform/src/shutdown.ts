// Graceful stop on SIGTERM/SIGINT: run the registered steps once, in registration order (steps marked `last`
// after the others — e.g. flushing spans after the servers have drained), then exit. A second signal or the
// overall deadline forces the exit, so a stuck step never leaves a pod hanging in Terminating.

export type ShutdownStep = () => Promise<void> | void;

interface Registered {
  fn: ShutdownStep;
  last: boolean;
  name: string;
}

export interface ShutdownOptions {
  /** Run after every step not marked last (telemetry flush). */
  last?: boolean;
  /** For the log line when the step fails. */
  name?: string;
}

const steps: Registered[] = [];
let installed = false;
let running: Promise<void> | undefined;
let deadlineMs = 10_000;
let report: (msg: string, err?: unknown) => void = (msg, err) => console.error(msg, err ?? '');

/** Registers a step to run on SIGTERM/SIGINT (and on `shutdownNow()`). */
export function onShutdown(fn: ShutdownStep, opts: ShutdownOptions = {}): void {
  steps.push({ fn, last: opts.last ?? false, name: opts.name ?? fn.name ?? 'step' });
  if (!installed) {
    installed = true;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (running) {
          report(`second ${signal}: exiting now`);
          process.exit(1);
        }
        void shutdownNow().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }
}

/** Overall deadline for all steps (default 10 s) and where failures are reported (default stderr). */
export function configureShutdown(opts: { deadlineMs?: number; report?: (msg: string, err?: unknown) => void }): void {
  if (opts.deadlineMs !== undefined) deadlineMs = opts.deadlineMs;
  if (opts.report) report = opts.report;
}

/** Runs the steps once (later calls return the same promise); rejects if the deadline passes. */
export function shutdownNow(): Promise<void> {
  running ??= (async () => {
    const ordered = [...steps.filter((s) => !s.last), ...steps.filter((s) => s.last)];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`shutdown did not finish within ${deadlineMs} ms`)), deadlineMs);
      timer.unref();
    });
    const run = (async () => {
      for (const step of ordered) {
        try {
          await step.fn();
        } catch (err) {
          report(`shutdown step ${step.name} failed`, err);
        }
      }
    })();
    try {
      await Promise.race([run, deadline]);
    } catch (err) {
      report('shutdown timed out', err);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  })();
  return running;
}

/** Forgets registered steps (tests only). */
export function resetShutdownForTests(): void {
  steps.length = 0;
  running = undefined;
}
