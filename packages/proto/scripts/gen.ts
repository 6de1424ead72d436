// Regenerates packages/proto/src/gen from proto/ with the buf binary npm ships and ts-proto.
// Generates into a temp dir and swaps it in, so processes reading the old code never see a half-written tree.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';

import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const buf = join(root, 'packages/proto/node_modules/.bin/buf');
const target = join(root, 'packages/proto/src/gen');
const tmp = mkdtempSync(join(root, 'packages/proto/.gen-'));
try {
  execFileSync(buf, ['lint'], { cwd: root, stdio: 'inherit' });
  execFileSync(buf, ['generate', '--output', tmp], { cwd: root, stdio: 'inherit' });
  const old = `${target}.old-${process.pid}`;
  try {
    renameSync(target, old);
  } catch {
    // first generation: nothing to move aside
  }
  renameSync(join(tmp, 'packages/proto/src/gen'), target);
  rmSync(old, { recursive: true, force: true });
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

