// Shared pieces of the HTTP load benchmarks (bench/gateway-load.ts, bench/vs-portkey.ts): an autocannon run with
// per-response latencies, the trivial upstream on its own thread, CPU time from /proc, private NATS/Redis helpers.
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import autocannon from 'autocannon';
import { freePort, waitForPort } from '../test/support/system.ts';

export interface Figures {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

export const round = (n: number) => Math.round(n * 100) / 100;

export function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export interface DriveOptions {
  url: string;
  connections: number;
  seconds: number;
  body: string;
  headers?: Record<string, string>;
}

/** One autocannon run; latencies are taken from every response (fractional ms) rather than autocannon's 1 ms buckets. */
export async function drive(opts: DriveOptions): Promise<Figures> {
  const times: number[] = [];
  const instance = autocannon({
    url: opts.url,
    method: 'POST',
    connections: opts.connections,
    duration: opts.seconds,
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: opts.body,
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status === 200) times.push(ms);
  });
  const result = await instance;
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? NaN;
  return {
    reqPerSec: Math.round(times.length / opts.seconds),
    p50: round(pct(50)),
    p99: round(pct(99)),
    requests: times.length,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export interface Upstream {
  url: string;
  worker: Worker;
  /** Chat completion requests the upstream has answered so far (every model). */
  calls(): Promise<number>;
  stop(): Promise<void>;
}

/** The trivial upstream (testkit's fake, nothing recorded) on its own thread, so it does not share autocannon's event loop. */
export function startUpstream(): Promise<Upstream> {
  const testkit = new URL('../packages/testkit/src/fake-openai.ts', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(testkit)}).then(async (m) => {
       const fake = await m.startFakeOpenAI({ host: '127.0.0.1', record: false });
       parentPort.on('message', (msg) => { if (msg === 'calls') parentPort.postMessage({ calls: fake.calls() }); });
       parentPort.postMessage({ url: fake.url });
     });`,
    { eval: true },
  );
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (msg: { url: string }) =>
      resolve({
        url: msg.url,
        worker,
        calls: () =>
          new Promise((res) => {
            worker.once('message', (m: { calls: number }) => res(m.calls));
            worker.postMessage('calls');
          }),
        stop: async () => {
          await worker.terminate();
        },
      }),
    );
  });
}

/** CPU time (user + system, every thread) a process has used, in ms, from /proc/<pid>/stat; undefined off Linux. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks (100 Hz).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** CPU ms of each named process now. */
export async function cpuSnapshot(pids: Record<string, number>): Promise<Record<string, number | undefined>> {
  return Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([n, p]) => [n, await cpuMs(p)] as const)));
}

/** read + write system calls a process has made (syscr + syscw of /proc/<pid>/io); undefined when unreadable. */
export async function syscalls(pid: number): Promise<number | undefined> {
  try {
    const io = await readFile(`/proc/${pid}/io`, 'utf8');
    const r = /syscr:\s+(\d+)/.exec(io)?.[1];
    const w = /syscw:\s+(\d+)/.exec(io)?.[1];
    return r && w ? Number(r) + Number(w) : undefined;
  } catch {
    return undefined;
  }
}

export async function syscallSnapshot(pids: Record<string, number>): Promise<Record<string, number | undefined>> {
  return Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([n, p]) => [n, await syscalls(p)] as const)));
}

/** Per-process CPU ms (or any counter) per request between two snapshots. */
export function cpuPerRequestBetween(
  before: Record<string, number | undefined>,
  after: Record<string, number | undefined>,
  requests: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [n, b] of Object.entries(before)) {
    const a = after[n];
    if (a !== undefined && b !== undefined && requests > 0) out[n] = (a - b) / requests;
  }
  return out;
}

/** Pids of the shared NATS and Redis servers on this machine, when they run here (their CPU is part of a request). */
export async function infraPids(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const comm = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '')).trim();
      if (comm === 'nats-server' || comm === 'redis-server') out[comm] ??= Number(entry);
    }
  } catch {
    // not Linux
  }
  return out;
}

export { freePort, waitForPort };

export interface PrivateRedis {
  url: string;
  pid: number;
  /** Commands the server has processed so far (INFO stats), this call's own INFO included. */
  commands(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A redis-server of our own (no persistence, random port) when the binary is on PATH, so its CPU can be put down to
 * one system under test; undefined otherwise (the caller falls back to the shared REDIS_URL).
 */
export async function startPrivateRedis(): Promise<PrivateRedis | undefined> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  };
  if (!(await waitForPort(port, 10_000))) {
    await stop();
    return undefined;
  }
  const admin = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await admin.connect();
  return {
    url,
    pid: child.pid ?? 0,
    commands: async () => Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1] ?? NaN),
    stop: async () => {
      admin.disconnect();
      await stop();
    },
  };
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function cleanRedis(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Remote ends of a process's open TCP/UDP sockets that are not on the loopback range (from /proc/<pid>/fd and
 * /proc/<pid>/net/*): a check that a process under test talks to nothing off this machine. [] off Linux.
 */
export async function offMachinePeers(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  try {
    for (const fd of await readdir(`/proc/${pid}/fd`)) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodes.add(m[1]!);
    }
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const remote = cols[2]!;
      const [hexAddr] = remote.split(':');
      if (!hexAddr || /^0+$/.test(hexAddr)) continue; // unconnected (listening) socket
      if (isLoopbackHex(hexAddr)) continue;
      out.push(`${table} ${remote}`);
    }
  }
  return out;
}

/** /proc/net addresses are little-endian hex words: 127.x.x.x is "..7F" (IPv4), ::1 and ::ffff:127.x.x.x for IPv6. */
function isLoopbackHex(hex: string): boolean {
  if (hex.length === 8) return hex.slice(6, 8).toUpperCase() === '7F';
  const h = hex.toUpperCase();
  if (h === '00000000000000000000000001000000') return true;
  // ::ffff:127.x.x.x → words 0000 0000 | 0000 0000 | FFFF 0000 | xx xx xx 7F
  return h.startsWith('0000000000000000FFFF0000') && h.slice(30, 32) === '7F';
}
