// Platform adapter latency (prints figures; not a test): a typed stage call (IntentStage.Classify through
// stageClient / serveStage, as the gateway calls the intent stage) over NatsBus — with @nats-io/services and with
// plain queue subscriptions, tracing off and on — against a raw nats.js request of the same bytes, the in-memory
// bus, and Redis get / put / compare-and-set / update through RedisStore.
// Client and server run in this one process (so a round trip includes both sides' CPU).
//
//   node bench/platform-bus.ts [--n 5000] [--concurrency 16] [--only nats,memory,redis] [--json]
import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ClassifyRequest, ClassifyResponse, IntentStageDefinition } from '@moma/proto';
import { MemoryBus, connectNatsBus, connectRedisStore, serveStage, stageClient, startTelemetry, type Bus } from '@moma/platform';
import { prefixedBus } from '@moma/testkit';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
    /** Comma-separated subset: nats, memory, redis. */
    only: { type: 'string', default: 'nats,memory,redis' },
  },
});
const only = new Set(values.only.split(','));
const N = Number(values.n);
const CONC = Number(values.concurrency);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Row {
  name: string;
  p50_us: number;
  p99_us: number;
  mean_us: number;
  ops_per_s?: number;
}
const rows: Row[] = [];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Sequential latency (one call in flight), after a warm-up, in microseconds. */
async function latency(name: string, fn: (i: number) => Promise<unknown>, n = N): Promise<void> {
  for (let i = 0; i < Math.min(500, n); i++) await fn(i);
  const t: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    t[i] = (performance.now() - t0) * 1000;
  }
  t.sort((a, b) => a - b);
  const row: Row = { name, p50_us: Math.round(pct(t, 50)), p99_us: Math.round(pct(t, 99)), mean_us: Math.round(t.reduce((a, b) => a + b, 0) / n) };
  rows.push(row);
  if (!values.json) console.log(`${name.padEnd(58)} p50 ${String(row.p50_us).padStart(5)} µs   p99 ${String(row.p99_us).padStart(6)} µs`);
}

/** Throughput with `CONC` calls in flight. */
async function throughput(name: string, fn: (i: number) => Promise<unknown>, n = N): Promise<void> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  const ops = Math.round(n / ((performance.now() - t0) / 1000));
  rows.push({ name, p50_us: 0, p99_us: 0, mean_us: 0, ops_per_s: ops });
  if (!values.json) console.log(`${name.padEnd(58)} ${ops} req/s`);
}

const req = ClassifyRequest.fromPartial({ text: 'book a table for two in Paris tomorrow at 8pm', topK: 3, tenant: 'bench' });
const res = ClassifyResponse.fromPartial({
  categories: [{ category: 'restaurants', score: 0.91 }, { category: 'travel', score: 0.05 }, { category: 'chitchat', score: 0.01 }],
  candidates: [{ agentId: 'resto-agent', score: 0.88, category: 'restaurants' }],
  inScope: true,
  threshold: 0.5,
});

/**
 * The benched stage: IntentStage answering `res`, served and called through the stage layer under a private
 * subject prefix (so a running MoMA on the same NATS is not disturbed). Returns the typed call.
 */
async function intentStage(server: Bus, client: Bus, prefix: string): Promise<() => Promise<unknown>> {
  await serveStage(prefixedBus(server, prefix), IntentStageDefinition, { classify: async () => res });
  const intent = stageClient(prefixedBus(client, prefix), IntentStageDefinition);
  return () => intent.classify(req);
}

async function busCase(label: string, server: Bus, client: Bus, prefix: string): Promise<void> {
  const call = await intentStage(server, client, prefix);
  await latency(`${label} round trip`, call);
  await throughput(`${label} throughput @${CONC}`, call);
}

/** Sequential latency of several cases, interleaved in rounds so machine noise hits them alike. */
async function interleaved(cases: Array<{ name: string; fn: () => Promise<unknown> }>, rounds = 5): Promise<void> {
  const samples = cases.map(() => [] as number[]);
  for (const c of cases) for (let i = 0; i < 500; i++) await c.fn();
  const per = Math.ceil(N / rounds);
  for (let r = 0; r < rounds; r++) {
    for (const [k, c] of cases.entries()) {
      for (let i = 0; i < per; i++) {
        const t0 = performance.now();
        await c.fn();
        samples[k]!.push((performance.now() - t0) * 1000);
      }
    }
  }
  for (const [k, c] of cases.entries()) {
    const t = samples[k]!.sort((a, b) => a - b);
    const row: Row = { name: c.name, p50_us: Math.round(pct(t, 50)), p99_us: Math.round(pct(t, 99)), mean_us: Math.round(t.reduce((a, b) => a + b, 0) / t.length) };
    rows.push(row);
    if (!values.json) console.log(`${c.name.padEnd(58)} p50 ${String(row.p50_us).padStart(5)} µs   p99 ${String(row.p99_us).padStart(6)} µs`);
  }
}

/** Throughput of several cases with `CONC` in flight, interleaved in rounds. */
async function interleavedThroughput(cases: Array<{ name: string; fn: () => Promise<unknown> }>, rounds = 4): Promise<void> {
  const elapsed = cases.map(() => 0);
  const per = Math.ceil(N / rounds);
  for (let r = 0; r < rounds; r++) {
    for (const [k, c] of cases.entries()) {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONC }, async () => {
          while (next++ < per) await c.fn();
        }),
      );
      elapsed[k]! += performance.now() - t0;
    }
  }
  for (const [k, c] of cases.entries()) {
    const ops = Math.round((per * rounds) / (elapsed[k]! / 1000));
    rows.push({ name: c.name, p50_us: 0, p99_us: 0, mean_us: 0, ops_per_s: ops });
    if (!values.json) console.log(`${c.name.padEnd(58)} ${ops} req/s`);
  }
}

async function natsCases(tracing: string): Promise<void> {
  const client = await connectNatsBus({ url: NATS_URL, name: 'bench-gateway' });
  const servers: Bus[] = [];
  const cases: Array<{ name: string; fn: () => Promise<unknown> }> = [];
  for (const useServices of [true, false]) {
    const server = await connectNatsBus({ url: NATS_URL, name: 'bench-intent', useServices });
    servers.push(server);
    const call = await intentStage(server, client, `bench.${useServices ? 'svc' : 'plain'}.${tracing}.${process.pid}`);
    const label = `NatsBus ${useServices ? '@nats-io/services' : 'plain queue sub'} (tracing ${tracing})`;
    cases.push({ name: `${label} round trip`, fn: call });
  }
  await interleaved(cases);
  await interleavedThroughput(cases.map((c) => ({ name: c.name.replace('round trip', `throughput @${CONC}`), fn: c.fn })));
  await Promise.all([...servers.map((s) => s.close()), client.close()]);
}

// Baseline: what nats.js itself costs for the same bytes (no codec, no headers, no spans).
if (only.has('nats')) {
  const nc = await connect({ servers: NATS_URL });
  const reqBytes = ClassifyRequest.encode(req).finish();
  const resBytes = ClassifyResponse.encode(res).finish();
  nc.subscribe(`moma.bench.raw.${process.pid}`, { queue: 'raw', callback: (_e, m) => void m.respond(resBytes) });
  await nc.flush();
  await latency('raw nats.js request (baseline)', () => nc.request(`moma.bench.raw.${process.pid}`, reqBytes, { timeout: 2000 }));
  await nc.drain();
}

if (only.has('nats')) await natsCases('off');
if (only.has('memory')) {
  const m = new MemoryBus();
  await busCase('MemoryBus (tracing off)', m, m, 'bench.memory');
}

// Tracing on, no exporter: spans are created and context crosses the wire (the production cost minus export).
if (only.has('nats')) {
  const telemetry = startTelemetry('bench', { env: { LOG_LEVEL: 'silent' } });
  await natsCases('on');
  await telemetry.shutdown();
}

if (only.has('redis')) {
  const prefix = `moma-bench:${process.pid}:`;
  const store = await connectRedisStore({ url: REDIS_URL, keyPrefix: prefix });
  const session = { history: [{ role: 'user', content: 'book a table' }], lastTarget: 'agent:resto', state: 'IN_AGENT' };
  await store.put('s', session, 60);
  await latency('RedisStore get', () => store.get('s'));
  await latency('RedisStore put (Lua, with TTL)', () => store.put('s', session, 60));
  let v = (await store.get('s'))!.version;
  await latency('RedisStore compareAndSet (Lua CAS)', async () => {
    if (await store.compareAndSet('s', session, v, 60)) v++;
  });
  await latency('RedisStore update (get + CAS)', () => store.update('s', (cur) => cur ?? session, 60));
  await throughput(`RedisStore update throughput @${CONC}, one hot key`, () => store.update('hot', (cur: number | undefined) => (cur ?? 0) + 1, 60), 2000);
  const hot = await store.get<number>('hot');
  if (!values.json) console.log(`  (hot key after ${2000} concurrent updates: ${hot?.value} — no lost update: ${hot?.value === 2000})`);
  await store.redis.del(`${prefix}s`, `${prefix}hot`);
  await store.close();
}

if (values.json) console.log(JSON.stringify(rows, null, 2));
