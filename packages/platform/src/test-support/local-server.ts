// Test helpers for suites that start their own nats-server / redis-server (so they can stop and restart it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { reachable } from './infra.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `binary --version` runs, i.e. the server can be started by the test. */
export function hasBinary(binary: string): boolean {
  return spawnSync(binary, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** A port on 127.0.0.1 that nothing listens on (bound once by the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `binary args` and waits (up to ~12 s) until `url` accepts connections on `port`. */
export async function startLocalServer(binary: string, args: string[], url: string, port: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await reachable(url, port, 100)) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`${binary} did not start`);
}

export async function stopLocalServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
