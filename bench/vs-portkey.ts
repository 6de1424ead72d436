// MoMA beside Portkey's open-source gateway (@portkey-ai/gateway, pinned in the root package.json), in the same run,
// on this machine, against the same trivial upstream, with the same request body; prints absolute figures and the
// MoMA/Portkey ratio of each (not a test).
//
//   node bench/vs-portkey.ts [--duration 8] [--warmup 3] [--rounds 2] [--json] [--cpu-prof]
//
// - MoMA runs distributed, as in bench/gateway-load.ts: every service its own process, on a private nats-server and a
//   private redis-server, so the CPU of every process on its path can be put down to it.
// - Portkey runs as its npm package starts it (`build/start-server.js --port=<p> --headless`), one process, told by
//   request headers to use the upstream as an OpenAI provider (x-portkey-provider: openai, x-portkey-custom-host).
//   Its environment is PATH and HOME only, plus TRUSTED_CUSTOM_HOSTS=127.0.0.1: no proxy, no Redis, no keys.
// - Cases: non-stream at 1 and 16 connections, stream at 16; autocannon, fractional-ms latencies from every response.
// - Each round runs every case on both, one right after the other (ABBA: MoMA first in odd rounds, Portkey first in
//   even ones), so machine noise hits both alike. Figures are medians over rounds; the ratio is MoMA/Portkey.
// - CPU ms per request: utime+stime from /proc/<pid>/stat before/after each run, summed over every process of the
//   system under test (MoMA: five services + nats-server, + redis-server when the run sent it any command); the
//   same for read+write system calls (syscr+syscw of /proc/<pid>/io), which is where a hop between processes costs.
//   The load generator and the upstream (this process) are the same for both and are not counted.
// - --cpu-prof: every process runs with --cpu-prof; top self-time functions per process are printed, counting only
//   the samples taken during that system's measured runs. Profiling slows both: do not quote those figures.
//
// Targets (issue 8): at 16 connections MoMA req/s ≥ 1.0× Portkey (aim 1.5×) and CPU/request ≤ 1.0×; at 1 connection
// MoMA p50 ≤ Portkey p50 + 1 ms and p99 ≤ Portkey p99.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { testInfra, uniqueId } from '@moma/testkit';
import { startPrivateNats, startSystem, type System } from '../test/support/system.ts';
import { formatSummary, profilePid, readProfile, summarize, type ProfileSummary } from './cpu-profile-summary.ts';
import {
  cleanRedis,
  cpuPerRequestBetween,
  cpuSnapshot,
  drive,
  freePort,
  median,
  offMachinePeers,
  syscallSnapshot,
  round,
  startPrivateRedis,
  startUpstream,
  type Figures,
  type Upstream,
} from './load-kit.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const duration = Number(args.duration);
const warmup = Number(args.warmup);
const rounds = Math.max(1, Math.min(20, Math.floor(Number(args.rounds))));
if (!(duration > 0 && duration <= 120) || !(warmup >= 0 && warmup <= 60)) {
  console.error('vs-portkey: --duration must be in (0, 120] and --warmup in [0, 60] seconds');
  process.exit(2);
}
const profileDir = args['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'moma-vs-portkey-prof-')) : undefined;
const profArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
/** Portkey has no SIGTERM handler, and a profile is only written on a normal exit. */
const PORTKEY_EXIT_ON_TERM = `data:text/javascript,${encodeURIComponent("process.once('SIGTERM', () => process.exit(0));")}`;

const QUESTION = 'What is the capital of France?';
const BODY = JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: QUESTION }] });
const STREAM_BODY = JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: QUESTION }], stream: true });
/** Sent to both; Portkey's openai provider wants a key, MoMA ignores it. */
const COMMON_HEADERS = { authorization: 'Bearer sk-bench' };

const CASES = [
  { id: 'c1', label: 'non-stream, 1 connection', connections: 1, body: BODY },
  { id: 'c16', label: 'non-stream, 16 connections', connections: 16, body: BODY },
  { id: 's16', label: 'stream, 16 connections', connections: 16, body: STREAM_BODY },
] as const;
type CaseId = (typeof CASES)[number]['id'];
type Name = 'moma' | 'portkey';
const NAMES: Name[] = ['moma', 'portkey'];
const TITLE: Record<Name, string> = { moma: 'MoMA', portkey: 'Portkey' };

interface Target {
  name: Name;
  url: string;
  headers: Record<string, string>;
  pids: Record<string, number>;
  /** Commands the system's own Redis has processed so far, when it has one. */
  redisCommands?: () => Promise<number>;
  redisPid?: number;
}

interface Run extends Figures {
  round: number;
  /** CPU ms per request, summed over the counted processes. */
  cpuMsPerRequest: number;
  cpuByProcess: Record<string, number>;
  /** read + write system calls per request, summed over the same processes (/proc/<pid>/io). */
  syscallsPerRequest: number;
  syscallsByProcess: Record<string, number>;
  /** Commands MoMA's Redis processed during the run (its CPU is counted only when there were any). */
  redisCommands?: number;
  /** CPU ms per request of this process (autocannon + upstream), the same work for both; not counted. */
  loadGeneratorCpuMsPerRequest: number;
  loadAverage1: number;
  /** process.hrtime µs, for picking profile samples. */
  windowUs: [number, number];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const loadNow = () => loadavg().map((l) => round(l));

async function measure(t: Target, c: (typeof CASES)[number], roundNo: number): Promise<Run> {
  const pids = { ...t.pids, ...(t.redisPid ? { 'redis-server': t.redisPid } : {}) };
  const loadAverage1 = round(loadavg()[0]!);
  const cmdBefore = t.redisCommands ? await t.redisCommands() : undefined;
  const before = await cpuSnapshot(pids);
  const ioBefore = await syscallSnapshot(pids);
  const self = process.cpuUsage();
  const start = nowUs();
  const figures = await drive({ url: t.url, connections: c.connections, seconds: duration, body: c.body, headers: t.headers });
  const end = nowUs();
  const selfUsed = process.cpuUsage(self);
  const after = await cpuSnapshot(pids);
  const ioAfter = await syscallSnapshot(pids);
  const cmdAfter = t.redisCommands ? await t.redisCommands() : undefined;
  const perProcess = cpuPerRequestBetween(before, after, figures.requests);
  // The two INFO calls above are the only commands of ours; anything more came from the system under test.
  const redisCommands = cmdBefore !== undefined && cmdAfter !== undefined ? Math.max(0, cmdAfter - cmdBefore - 1) : undefined;
  const ioPerProcess = cpuPerRequestBetween(ioBefore, ioAfter, figures.requests);
  if (redisCommands === 0) {
    delete perProcess['redis-server'];
    delete ioPerProcess['redis-server'];
  }
  const cpuByProcess = Object.fromEntries(Object.entries(perProcess).map(([n, v]) => [n, round(v)]));
  return {
    ...figures,
    round: roundNo,
    cpuMsPerRequest: round(Object.values(perProcess).reduce((a, b) => a + b, 0)),
    cpuByProcess,
    syscallsPerRequest: round(Object.values(ioPerProcess).reduce((a, b) => a + b, 0)),
    syscallsByProcess: Object.fromEntries(Object.entries(ioPerProcess).map(([n, v]) => [n, round(v)])),
    ...(redisCommands !== undefined ? { redisCommands } : {}),
    loadGeneratorCpuMsPerRequest: figures.requests ? round((selfUsed.user + selfUsed.system) / 1000 / figures.requests) : NaN,
    loadAverage1,
    windowUs: [start, end],
  };
}

/** One request of each kind through `t`, checked end to end: 200, the upstream's answer, and one upstream call each. */
async function verify(t: Target, upstream: Upstream): Promise<string[]> {
  const problems: string[] = [];
  for (const [kind, body] of [['non-stream', BODY], ['stream', STREAM_BODY]] as const) {
    const calls = await upstream.calls();
    try {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let content = '';
      if (kind === 'non-stream') {
        content = (JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message?.content ?? '';
      } else {
        for (const line of text.split('\n')) {
          if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
          const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
          content += chunk.choices?.[0]?.delta?.content ?? '';
        }
        if (!text.includes('data: [DONE]')) problems.push(`${t.name} ${kind}: no [DONE]`);
      }
      const made = (await upstream.calls()) - calls;
      if (res.status !== 200) problems.push(`${t.name} ${kind}: HTTP ${res.status} ${text.slice(0, 200)}`);
      else if (!content.endsWith(QUESTION)) problems.push(`${t.name} ${kind}: unexpected answer ${JSON.stringify(content.slice(0, 120))}`);
      if (made !== 1) problems.push(`${t.name} ${kind}: ${made} upstream calls for one request (expected 1)`);
    } catch (err) {
      problems.push(`${t.name} ${kind}: ${(err as Error).message}`);
    }
  }
  return problems;
}

interface Portkey {
  url: string;
  pid: number;
  version: string;
  output: string[];
  stop(): Promise<void>;
}

/** Portkey's gateway as its package's bin starts it, on a free port, with nothing from our environment but PATH/HOME. */
async function startPortkey(): Promise<Portkey> {
  const require = createRequire(import.meta.url);
  const pkgFile = require.resolve('@portkey-ai/gateway/package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string; bin: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin)[0]!;
  const port = await freePort();
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [...profArgs, ...(profileDir ? ['--import', PORTKEY_EXIT_ON_TERM] : []), join(dirname(pkgFile), bin), `--port=${port}`, '--headless'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TRUSTED_CUSTOM_HOSTS: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) {
    s.setEncoding('utf8').on('data', (d: string) => {
      output.push(...d.split('\n').filter(Boolean));
      if (output.length > 200) output.splice(0, output.length - 200);
    });
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { url, pid: child.pid ?? 0, version: pkg.version, output, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`Portkey did not start:\n${output.slice(-30).join('\n')}`);
}

type Summary = Record<CaseId, Record<Name, { reqPerSec: number; p50: number; p99: number; cpuMsPerRequest: number; syscallsPerRequest: number; errors: number }>>;

function summarizeRuns(results: Record<Name, Record<CaseId, Run[]>>): Summary {
  const out = {} as Summary;
  for (const c of CASES) {
    out[c.id] = {} as Summary[CaseId];
    for (const n of NAMES) {
      const runs = results[n][c.id];
      out[c.id][n] = {
        reqPerSec: Math.round(median(runs.map((r) => r.reqPerSec))),
        p50: round(median(runs.map((r) => r.p50))),
        p99: round(median(runs.map((r) => r.p99))),
        cpuMsPerRequest: round(median(runs.map((r) => r.cpuMsPerRequest))),
        syscallsPerRequest: round(median(runs.map((r) => r.syscallsPerRequest))),
        errors: runs.reduce((a, r) => a + r.errors, 0),
      };
    }
  }
  return out;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : NaN);

async function main(): Promise<void> {
  const upstream = await startUpstream();
  // Private NATS and Redis, so their CPU is MoMA's alone and no other test run's services join our queue groups.
  const nats = await startPrivateNats();
  const redis = await startPrivateRedis();
  const infra = nats && redis ? undefined : await testInfra({ nats: !nats, redis: !redis });
  if (infra && !infra.ok) {
    console.error(`vs-portkey: cannot run (${infra.reason})`);
    await Promise.all([upstream.stop(), nats?.stop(), redis?.stop()]);
    process.exitCode = 1;
    return;
  }
  const redisUrl = redis?.url ?? infra!.redisUrl;
  const keyPrefix = `bench-${uniqueId()}:`;
  let sys: System | undefined;
  let portkey: Portkey | undefined;
  try {
    sys = await startSystem({
      natsUrl: nats?.url ?? infra!.natsUrl,
      redisUrl,
      keyPrefix,
      providers: [{ name: 'bench', baseUrl: upstream.url, models: ['*'] }],
      env: { SESSION_TTL_SECONDS: '600', OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'false' },
      ...(profArgs.length ? { nodeArgs: profArgs } : {}),
    });
    portkey = await startPortkey();
    const targets: Record<Name, Target> = {
      moma: {
        name: 'moma',
        url: `${sys.httpUrl}/v1/chat/completions`,
        headers: COMMON_HEADERS,
        pids: { ...sys.pids, ...(nats ? { 'nats-server': nats.pid } : {}) },
        ...(redis ? { redisCommands: redis.commands, redisPid: redis.pid } : {}),
      },
      portkey: {
        name: 'portkey',
        url: `${portkey.url}/v1/chat/completions`,
        headers: { ...COMMON_HEADERS, 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstream.url },
        pids: { portkey: portkey.pid },
      },
    };
    await new Promise((r) => setTimeout(r, 1000));
    const problems = [...(await verify(targets.moma, upstream)), ...(await verify(targets.portkey, upstream))];
    if (problems.length) throw new Error(`requests do not reach the upstream as expected:\n  ${problems.join('\n  ')}`);

    const loadBefore = loadNow();
    if (warmup > 0) {
      for (const n of NAMES) for (const body of [BODY, STREAM_BODY]) await drive({ url: targets[n].url, connections: 16, seconds: warmup, body, headers: targets[n].headers });
    }
    const results = { moma: {}, portkey: {} } as Record<Name, Record<CaseId, Run[]>>;
    for (const n of NAMES) for (const c of CASES) results[n][c.id] = [];
    for (let r = 1; r <= rounds; r++) {
      const order: Name[] = r % 2 === 1 ? ['moma', 'portkey'] : ['portkey', 'moma'];
      for (const c of CASES) {
        for (const n of order) {
          const run = await measure(targets[n], c, r);
          results[n][c.id].push(run);
          if (!args.json) process.stderr.write(`round ${r} ${c.id} ${n}: ${run.reqPerSec} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.cpuMsPerRequest} CPU ms/req, load ${run.loadAverage1}\n`);
        }
      }
    }
    const loadAfter = loadNow();
    const portkeyOffMachine = await offMachinePeers(portkey.pid);

    const summary = summarizeRuns(results);
    const c1 = summary.c1;
    const c16 = summary.c16;
    const targetsMet = {
      c16ReqPerSec: c16.moma.reqPerSec >= c16.portkey.reqPerSec,
      c16ReqPerSecAim: c16.moma.reqPerSec >= 1.5 * c16.portkey.reqPerSec,
      c16CpuPerRequest: c16.moma.cpuMsPerRequest <= c16.portkey.cpuMsPerRequest,
      c1P50: c1.moma.p50 <= c1.portkey.p50 + 1,
      c1P99: c1.moma.p99 <= c1.portkey.p99,
    };
    const ratios = Object.fromEntries(
      CASES.map((c) => {
        const m = summary[c.id].moma;
        const p = summary[c.id].portkey;
        return [
          c.id,
          {
            reqPerSec: ratio(m.reqPerSec, p.reqPerSec),
            p50: ratio(m.p50, p.p50),
            p99: ratio(m.p99, p.p99),
            cpuMsPerRequest: ratio(m.cpuMsPerRequest, p.cpuMsPerRequest),
            syscallsPerRequest: ratio(m.syscallsPerRequest, p.syscallsPerRequest),
          },
        ];
      }),
    ) as Record<CaseId, Record<'reqPerSec' | 'p50' | 'p99' | 'cpuMsPerRequest' | 'syscallsPerRequest', number>>;
    const breakdown = (n: Name, id: CaseId, key: 'cpuByProcess' | 'syscallsByProcess') => {
      const names = [...new Set(results[n][id].flatMap((r) => Object.keys(r[key])))];
      return Object.fromEntries(names.map((p) => [p, round(median(results[n][id].map((r) => r[key][p] ?? 0)))]));
    };
    const report = {
      portkeyVersion: portkey.version,
      duration,
      warmup,
      rounds,
      moma: { nats: nats ? 'private nats-server' : infra!.natsUrl, redis: redis ? 'private redis-server' : redisUrl },
      loadAverage: { before: loadBefore, after: loadAfter },
      summary,
      ratios,
      cpuByProcess: Object.fromEntries(CASES.map((c) => [c.id, { moma: breakdown('moma', c.id, 'cpuByProcess'), portkey: breakdown('portkey', c.id, 'cpuByProcess') }])),
      syscallsByProcess: Object.fromEntries(
        CASES.map((c) => [c.id, { moma: breakdown('moma', c.id, 'syscallsByProcess'), portkey: breakdown('portkey', c.id, 'syscallsByProcess') }]),
      ),
      runs: results,
      targets: targetsMet,
      portkeyOffMachinePeers: portkeyOffMachine,
    };

    if (args.json) {
      console.log(JSON.stringify(report));
    } else {
      print(report, summary, ratios, results, targetsMet);
    }

    // Profiles are written when the processes exit.
    if (profileDir) {
      const windows = Object.fromEntries(NAMES.map((n) => [n, CASES.flatMap((c) => results[n][c.id].map((r) => r.windowUs))])) as Record<Name, Array<[number, number]>>;
      const names = new Map<number, { title: string; system: Name }>([
        ...Object.entries(sys.pids).map(([s, pid]) => [pid, { title: `MoMA ${s}`, system: 'moma' as Name }] as const),
        [portkey.pid, { title: 'Portkey', system: 'portkey' as Name }],
      ]);
      await sys.stop();
      sys = undefined;
      await portkey.stop();
      portkey = undefined;
      const summaries: Record<string, ProfileSummary> = {};
      for (const file of readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        const who = names.get(profilePid(file) ?? -1);
        if (!who) continue;
        summaries[who.title] = summarize(readProfile(join(profileDir, file)), { top: 15, windows: windows[who.system] });
      }
      if (args.json) console.log(JSON.stringify({ profiles: summaries, profileDir }));
      else {
        console.log(`\nCPU profiles (${profileDir}); self time during each system's measured runs only:`);
        for (const [title, s] of Object.entries(summaries).sort()) console.log(`\n${formatSummary(title, s)}`);
      }
    }
  } finally {
    await sys?.stop();
    await portkey?.stop();
    await nats?.stop();
    await upstream.stop();
    if (redis) await redis.stop();
    else await cleanRedis(redisUrl, keyPrefix);
  }
}

function print(
  report: { portkeyVersion: string; duration: number; rounds: number; moma: { nats: string; redis: string }; loadAverage: { before: number[]; after: number[] }; cpuByProcess: Record<string, Record<Name, Record<string, number>>>; syscallsByProcess: Record<string, Record<Name, Record<string, number>>>; portkeyOffMachinePeers: string[] },
  summary: Summary,
  ratios: Record<CaseId, Record<string, number>>,
  results: Record<Name, Record<CaseId, Run[]>>,
  met: Record<string, boolean>,
): void {
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
  console.log(
    `\nvs-portkey: MoMA (distributed: 5 services, ${report.moma.nats}, ${report.moma.redis}) vs Portkey gateway ${report.portkeyVersion}` +
      `\nsame upstream (testkit fake, in-process thread), same body, POST /v1/chat/completions; ${report.duration} s per run, ` +
      `${report.rounds} round(s) interleaved; medians over rounds`,
  );
  const head = `${'case'.padEnd(28)}${'metric'.padEnd(12)}${'MoMA'.padStart(10)}${'Portkey'.padStart(10)}${'MoMA/Portkey'.padStart(14)}`;
  console.log(`\n${head}\n${'-'.repeat(head.length)}`);
  for (const c of CASES) {
    const m = summary[c.id].moma;
    const p = summary[c.id].portkey;
    const rows: Array<[string, string, string, string]> = [
      ['req/s', String(m.reqPerSec), String(p.reqPerSec), x(ratios[c.id]!.reqPerSec!)],
      ['p50 ms', m.p50.toFixed(2), p.p50.toFixed(2), x(ratios[c.id]!.p50!)],
      ['p99 ms', m.p99.toFixed(2), p.p99.toFixed(2), x(ratios[c.id]!.p99!)],
      ['CPU ms/req', m.cpuMsPerRequest.toFixed(2), p.cpuMsPerRequest.toFixed(2), x(ratios[c.id]!.cpuMsPerRequest!)],
      ['syscalls/req', m.syscallsPerRequest.toFixed(1), p.syscallsPerRequest.toFixed(1), x(ratios[c.id]!.syscallsPerRequest!)],
      ['errors', String(m.errors), String(p.errors), ''],
    ];
    rows.forEach(([metric, a, b, r], i) =>
      console.log(`${(i === 0 ? c.label : '').padEnd(28)}${metric.padEnd(12)}${a.padStart(10)}${b.padStart(10)}${r.padStart(14)}`),
    );
  }
  console.log('\nper round (req/s · p50 · p99 · CPU ms/req; load average 1 min at the start of the run):');
  for (const c of CASES) {
    for (const n of NAMES) {
      const runs = results[n][c.id].map((r) => `r${r.round} ${r.reqPerSec} · ${r.p50} · ${r.p99} · ${r.cpuMsPerRequest} (load ${r.loadAverage1})`);
      console.log(`  ${c.id.padEnd(4)} ${TITLE[n].padEnd(8)} ${runs.join('   ')}`);
    }
  }
  console.log('\nCPU ms per request by process (medians):');
  for (const c of CASES) {
    for (const n of NAMES) {
      const parts = Object.entries(report.cpuByProcess[c.id]![n]!).sort((a, b) => b[1] - a[1]).map(([p, v]) => `${p} ${v}`);
      console.log(`  ${c.id.padEnd(4)} ${TITLE[n].padEnd(8)} ${parts.join(', ')}`);
    }
  }
  console.log('read+write system calls per request by process (medians):');
  for (const c of CASES) {
    for (const n of NAMES) {
      const parts = Object.entries(report.syscallsByProcess[c.id]![n]!).sort((a, b) => b[1] - a[1]).map(([p, v]) => `${p} ${v}`);
      console.log(`  ${c.id.padEnd(4)} ${TITLE[n].padEnd(8)} ${parts.join(', ')}`);
    }
  }
  const redisCmds = CASES.map((c) => `${c.id} ${results.moma[c.id].map((r) => r.redisCommands ?? '?').join('/')}`);
  console.log(`  MoMA Redis commands per run: ${redisCmds.join(', ')} (redis-server CPU counted only in runs that sent any)`);
  const gen = CASES.map((c) => `${c.id} ${NAMES.map((n) => `${TITLE[n]} ${round(median(results[n][c.id].map((r) => r.loadGeneratorCpuMsPerRequest)))}`).join(' / ')}`);
  console.log(`  load generator + upstream (not counted): ${gen.join(', ')}`);
  console.log(`\nload average (1/5/15 min): before ${report.loadAverage.before.join(' ')}, after ${report.loadAverage.after.join(' ')}`);
  console.log(`Portkey sockets to peers off this machine at the end: ${report.portkeyOffMachinePeers.length ? report.portkeyOffMachinePeers.join(', ') : 'none'}`);
  const ok = (b: boolean | undefined) => (b ? 'met' : 'MISSED');
  const m1 = summary.c1.moma;
  const p1 = summary.c1.portkey;
  const m16 = summary.c16.moma;
  const p16 = summary.c16.portkey;
  console.log('\ntargets (issue 8):');
  console.log(`  16 connections req/s ≥ 1.0× Portkey: ${ok(met.c16ReqPerSec)} (${x(ratios.c16!.reqPerSec!)}: ${m16.reqPerSec} vs ${p16.reqPerSec}); aim 1.5×: ${ok(met.c16ReqPerSecAim)}`);
  console.log(`  16 connections CPU/request ≤ 1.0× Portkey: ${ok(met.c16CpuPerRequest)} (${x(ratios.c16!.cpuMsPerRequest!)}: ${m16.cpuMsPerRequest} vs ${p16.cpuMsPerRequest} ms)`);
  console.log(`  1 connection p50 ≤ Portkey p50 + 1 ms: ${ok(met.c1P50)} (${m1.p50} vs ${p1.p50} ms)`);
  console.log(`  1 connection p99 ≤ Portkey p99: ${ok(met.c1P99)} (${m1.p99} vs ${p1.p99} ms)`);
}

await main();
