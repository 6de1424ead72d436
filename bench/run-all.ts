// Runs every benchmark script in bench/ in turn (each in its own process, so one's load never skews the next).
//   node bench/run-all.ts [name-filter]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2] ?? '';
/** Modules the scripts import, not benchmarks of their own. */
const HELPERS = new Set(['run-all.ts', 'load-kit.ts', 'cpu-profile-summary.ts']);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && !HELPERS.has(f) && f.includes(filter))
  .sort();

let failed = 0;
for (const script of scripts) {
  console.log(`\n=== bench/${script}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [`${dir}${script}`], { stdio: 'inherit' });
  const status = r.status ?? 1;
  if (status !== 0) failed++;
  console.log(`=== bench/${script}: ${status === 0 ? 'done' : `exit ${status}`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exitCode = failed ? 1 : 0;
