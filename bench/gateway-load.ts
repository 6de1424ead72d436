// Load benchmark (prints figures; not a test): the distributed system — every service its own process on NATS and
// Redis — driven through `POST /v1/chat/completions` (non-stream) by autocannon at 1 and 16 connections, and the same
// load straight at the trivial local upstream for comparison; plus each service's resident memory idle and after.
//
//   node bench/gateway-load.ts [--duration 10] [--warmup 3] [--json] [--cpu-prof]
// Targets: 1 connection p50 ≤ 2 ms, p99 ≤ 8 ms; 16 connections ≥ 1,000 req/s; each service idle ≤ 150 MB.
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { testInfra, uniqueId } from '@moma/testkit';
import { cleanRedis, cpuSnapshot, cpuPerRequestBetween, drive as driveLoad, infraPids, round, startUpstream, type Figures } from './load-kit.ts';
import { rssMb, startPrivateNats, startSystem, SERVICES, type System } from '../test/support/system.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const duration = Number(args.duration);
const warmup = Number(args.warmup);

const BODY = JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: 'What is the capital of France?' }] });

const drive = (url: string, connections: number, seconds: number, body = BODY): Promise<Figures> =>
  driveLoad({ url, connections, seconds, body });

/** CPU ms each process spent per request during `run` (all processes on the path, including NATS and Redis). */
async function cpuPerRequest(pids: Record<string, number>, run: () => Promise<Figures>): Promise<{ figures: Figures; cpu: Record<string, number> }> {
  const before = await cpuSnapshot(pids);
  const figures = await run();
  const perRequest = cpuPerRequestBetween(before, await cpuSnapshot(pids), figures.requests);
  return { figures, cpu: Object.fromEntries(Object.entries(perRequest).map(([n, v]) => [n, round(v)])) };
}

async function memory(sys: System): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const s of SERVICES) out[s] = await rssMb(sys.pids[s]);
  return out;
}

async function main(): Promise<void> {
  const infra = await testInfra();
  if (!infra.ok) {
    console.error(`gateway-load: cannot run (${infra.reason})`);
    process.exitCode = 1;
    return;
  }
  const upstream = await startUpstream();
  // A nats-server of our own when installed, so no other test run on the shared NATS joins our queue groups.
  const nats = await startPrivateNats();
  const keyPrefix = `bench-${uniqueId()}:`;
  const sys = await startSystem({
    natsUrl: nats?.url ?? infra.natsUrl,
    redisUrl: infra.redisUrl,
    keyPrefix,
    providers: [{ name: 'bench', baseUrl: upstream.url, models: ['*'] }],
    // Requests carry no session id (stateless: nothing is written); the TTL only bounds anything a run might leave.
    env: { SESSION_TTL_SECONDS: '600', OTEL_SDK_DISABLED: process.env.OTEL_SDK_DISABLED ?? 'false' },
    ...(args['cpu-prof'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'moma-profiles')}`] } : {}),
  });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = await memory(sys);
    const url = `${sys.httpUrl}/v1/chat/completions`;
    const upstreamUrl = `${upstream.url}/chat/completions`;

    // The machine may be shared: the load average says how much of the 2 cores the run could have had.
    const loadBefore = loadavg().map((l) => round(l));
    if (warmup > 0) await drive(url, 16, warmup);
    const routed1 = await drive(url, 1, duration);
    const pids = { ...sys.pids, ...(await infraPids()), ...(nats ? { 'nats-server': nats.pid } : {}) };
    const { figures: routed16, cpu } = await cpuPerRequest(pids, () => drive(url, 16, duration));
    const after = await memory(sys);
    await drive(upstreamUrl, 4, 1);
    const direct1 = await drive(upstreamUrl, 1, duration);
    const direct16 = await drive(upstreamUrl, 16, duration);

    const report = {
      duration,
      loadAverage: { before: loadBefore, after: loadavg().map((l) => round(l)) },
      routed: { c1: routed1, c16: routed16 },
      upstream: { c1: direct1, c16: direct16 },
      rssMb: { idle, afterLoad: after },
      cpuMsPerRequest16: cpu,
      targets: {
        c1p50: routed1.p50 <= 2,
        c1p99: routed1.p99 <= 8,
        c16rps: routed16.reqPerSec >= 1000,
        idleRss: Object.values(idle).every((v) => v !== undefined && v <= 150),
      },
    };
    if (args.json) {
      console.log(JSON.stringify(report));
    } else {
      const line = (name: string, f: Figures) =>
        `${name.padEnd(34)} ${String(f.reqPerSec).padStart(8)} ${f.p50.toFixed(2).padStart(8)} ${f.p99.toFixed(2).padStart(8)} ${String(f.errors).padStart(7)}`;
      console.log(`\ngateway-load (${duration} s per run, non-stream POST /v1/chat/completions; NATS: ${nats ? 'private nats-server' : infra.natsUrl})`);
      console.log(`${''.padEnd(34)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`);
      console.log(line('routed, 1 connection', routed1));
      console.log(line('routed, 16 connections', routed16));
      console.log(line('upstream direct, 1 connection', direct1));
      console.log(line('upstream direct, 16 connections', direct16));
      console.log(`\nload average (1/5/15 min): before ${report.loadAverage.before.join(' ')}, after ${report.loadAverage.after.join(' ')}`);
      console.log(`\nresident memory (MB)   ${SERVICES.map((s) => s.padStart(13)).join('')}`);
      console.log(`idle                   ${SERVICES.map((s) => String(idle[s]).padStart(13)).join('')}`);
      console.log(`after load             ${SERVICES.map((s) => String(after[s]).padStart(13)).join('')}`);
      const cpuTotal = round(Object.values(cpu).reduce((a, b) => a + b, 0));
      console.log(`\nCPU ms per request at 16 connections (total ${cpuTotal} ms; 2 cores allow ${round(2000 / Math.max(cpuTotal, 0.001))} req/s):`);
      console.log(`  ${Object.entries(cpu).map(([n, v]) => `${n} ${v}`).join(', ')}`);
      const ok = (b: boolean) => (b ? 'met' : 'MISSED');
      console.log(
        `\ntargets: 1-conn p50 ≤ 2 ms ${ok(report.targets.c1p50)}; p99 ≤ 8 ms ${ok(report.targets.c1p99)}; ` +
          `16-conn ≥ 1000 req/s ${ok(report.targets.c16rps)}; idle RSS ≤ 150 MB ${ok(report.targets.idleRss)}`,
      );
    }
  } finally {
    await sys.stop();
    await nats?.stop();
    await upstream.stop();
    await cleanRedis(infra.redisUrl, keyPrefix);
  }
}

await main();
