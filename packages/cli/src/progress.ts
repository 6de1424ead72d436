import cliProgress from 'cli-progress';

/** A progress bar on stderr (stdout stays clean for --json); silent when stderr is not a terminal or quiet. */
export function progressBar(label: string, quiet = false): { update(step: string, done: number, total: number): void; stop(): void } {
  if (quiet) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {step}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 10000 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(step, done, total) {
      if (!started) {
        bar.start(total, 0, { step });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { step });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
