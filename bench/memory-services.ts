// Idle memory of each service in distributed mode: starts every service as its own process (as `node
// services/<n>/src/main.ts`) on the local NATS + Redis with a unique key
// prefix, waits for its "ready"/"listening" log line plus a settle time, then prints VmRSS (from /proc), V8
// heapUsed/heapTotal and external per service. Processes run one at a time so they do not compete for the 2 CPUs.
//
//   node bench/memory-services.ts                        # all five services, sources (type stripping)
//   node bench/memory-services.ts --compile-cache        # NODE_COMPILE_CACHE warmed by a first, discarded run
//   node bench/memory-services.ts --node-args="--max-semi-space-size=1" --services=scoring,intent --runs=3
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 node bench/memory-services.ts   # exporter path too
//   node bench/memory-services.ts --services=intent,orchestrator --agents=150 --settle-ms=12000   # 150 agents registered
//   node bench/memory-services.ts --without-redis=scoring   # as if scoring opened no Redis connection
//   node bench/memory-services.ts --services=intent --agents=150 --queries=200   # after serving 200 queries (MOMA_AGENT_ENCODER=lexical: without the encoder)
// Memory flags in the environment (NODE_OPTIONS, MALLOC_MMAP_THRESHOLD_=131072, MALLOC_ARENA_MAX=2: the image's) are
// passed on to the services.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connectNatsBus, connectRedisStore, stageClient } from '@moma/platform';
import { Agent, IntentStageDefinition } from '@moma/proto';
import { TestRegistry } from '@moma/testkit';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ALL = ['scoring', 'intent', 'orchestrator', 'gateway', 'executor'];

const { values: args } = parseArgs({
  options: {
    services: { type: 'string', default: ALL.join(',') },
    'compile-cache': { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    'settle-ms': { type: 'string', default: '3000' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    /**
     * Synthetic agents in the registry before intent/orchestrator start: written as the orchestrator stores them for
     * the orchestrator, served through the orchestrator's ListAgents contract for intent.
     */
    agents: { type: 'string', default: '0' },
    /**
     * Intent only: after the settle time, this many classify requests (distinct questions, in and out of the
     * synthetic agents' topics, one at a time), then `--after-queries-ms` (15 s) more before measuring: memory after
     * serving, not only at start.
     */
    queries: { type: 'string', default: '0' },
    'after-queries-ms': { type: 'string', default: '15000' },
    /** Services started without REDIS_URL (what a stage that never touches the store saves by not connecting). */
    'without-redis': { type: 'string', default: '' },
  },
});

// Preloaded into each service (as plain JS, so it costs no type stripping): answers an IPC "mem" message with
// process.memoryUsage() and the RSS the kernel reports, which is the figure the target is about.
const PROBE = `data:text/javascript,${encodeURIComponent(`
import { readFileSync } from 'node:fs';
process.on('message', (m) => {
  if (m !== 'mem') return;
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(status)?.[1] ?? 0);
  process.send({ ...process.memoryUsage(), vmRss: kb('VmRSS') * 1024, rssAnon: kb('RssAnon') * 1024, rssFile: kb('RssFile') * 1024 });
});
process.channel?.unref();
`)}`;

interface Sample {
  rss: number;
  vmRss: number;
  rssAnon: number;
  rssFile: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  readyMs: number;
  /** HTTP status of /healthz (services with a health server). */
  health?: number | undefined;
}

function entryFor(name: string): string {
  const file = join(ROOT, 'services', name, 'src', 'main.ts');
  return file;
}

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = (name: string) => `bench-mem-${process.pid}-${name}:`;

const TOPICS = ['weather', 'banking', 'travel', 'cooking', 'music', 'fitness', 'shopping', 'insurance', 'calendar', 'translation'];

function syntheticAgent(i: number): Agent {
  const topic = `${TOPICS[i % TOPICS.length]} ${Math.floor(i / TOPICS.length)}`;
  return Agent.fromPartial({
    id: `agent-${i}`,
    healthy: true,
    card: {
      name: `agent-${i}`,
      description: `Helps with ${topic}: questions, requests and updates about ${topic}`,
      url: `http://127.0.0.1:9/agent-${i}`,
      version: '1',
      skills: [0, 1, 2].map((k) => ({
        id: `skill-${k}`,
        name: `${topic} skill ${k}`,
        description: `Task ${k} for ${topic}`,
        tags: [topic],
        examples: [`how do I do task ${k} about ${topic}`, `please help me with ${topic} number ${k}`, `what is the status of my ${topic} ${k}`],
      })),
    },
  });
}

/**
 * Puts `n` synthetic agents (a few skills with examples each, like a real card) where the service finds them: the
 * orchestrator in its own Redis keys, intent from a registry that answers the orchestrator's ListAgents (intent reads
 * no Redis). Returns a cleanup.
 */
async function seedAgents(name: string, n: number): Promise<() => Promise<void>> {
  if (n <= 0) return async () => {};
  const agents = Array.from({ length: n }, (_, i) => syntheticAgent(i));
  if (name === 'intent') {
    const bus = await connectNatsBus({ url: NATS_URL, name: 'bench-registry' });
    const registry = await new TestRegistry(bus).serve();
    for (const a of agents) await registry.upsert(a, { quiet: true });
    return async () => {
      await registry.close();
      await bus.close();
    };
  }
  if (name !== 'orchestrator') return async () => {};
  const store = await connectRedisStore({ url: REDIS_URL, keyPrefix: keyPrefix(name) });
  for (const a of agents) await store.put(`agent:${a.id}`, Agent.toJSON(a));
  await store.put('registry:version', 1);
  return async () => {
    for (const k of ['registry:version', ...agents.map((a) => `agent:${a.id}`)]) await store.delete(k);
    await store.close();
  };
}

const ASKS = ['how do I change my', 'what is the latest on', 'can you check the status of', 'remind me later about', 'who wrote the song about', 'is it going to rain during'];

/** `n` classify requests to the intent stage, one at a time, each question different. */
async function sendQueries(n: number): Promise<void> {
  const bus = await connectNatsBus({ url: NATS_URL, name: 'bench-queries' });
  try {
    const intent = stageClient(bus, IntentStageDefinition);
    for (let i = 0; i < n; i++) {
      const text = `${ASKS[i % ASKS.length]} ${TOPICS[(i * 7) % TOPICS.length]} ${i % 3 === 0 ? 'order' : 'plan'} number ${i}`;
      await intent.classify({ text, context: [], topK: 3, tenant: '' });
    }
  } finally {
    await bus.close();
  }
}

function envFor(name: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NATS_URL,
    REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix(name),
    OTEL_SERVICE_NAME: name,
    LOG_LEVEL: 'info',
    HEALTH_PORT: '0',
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_GRPC_PORT: '0',
    EXECUTOR_GRPC_PORT: '0',
    ...extra,
  };
  if (args['without-redis'].split(',').includes(name)) delete env.REDIS_URL;
  // an idle executor calls no provider, but it needs one configured to start: a keyless one on this machine
  if (name === 'executor' && !env.MOMA_PROVIDERS && !env.MOMA_PROVIDERS_FILE && !env.OPENAI_API_KEY) {
    env.MOMA_PROVIDERS = JSON.stringify([{ name: 'local', baseUrl: 'http://127.0.0.1:9/v1', models: ['*'] }]);
  }
  return env;
}

async function measure(name: string, extraEnv: Record<string, string>): Promise<Sample> {
  const nodeArgs = args['node-args'].split(/\s+/).filter(Boolean);
  const cleanup = await seedAgents(name, Number(args.agents));
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, '--import', PROBE, entryFor(name)], {
    cwd: ROOT,
    env: envFor(name, extraEnv),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lines: string[] = [];
  try {
    let healthPort = 0;
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: not ready within 30 s\n${lines.slice(-10).join('\n')}`)), 30_000);
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => {
          lines.push(line);
          if (/"msg":"[^"]*(ready|listening)"/.test(line) && !line.includes('service context ready')) {
            healthPort = Number(/"healthPort":(\d+)/.exec(line)?.[1] ?? 0);
            clearTimeout(timer);
            resolve(performance.now() - started);
          }
        });
      }
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name}: exited with ${code} before ready\n${lines.slice(-10).join('\n')}`));
      });
    });
    // One probe, as Kubernetes would send: proves the stage answers over the bus.
    const health = healthPort ? (await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => undefined))?.status ?? 0 : undefined;
    await new Promise((r) => setTimeout(r, Number(args['settle-ms'])));
    if (name === 'intent' && Number(args.queries) > 0) {
      await sendQueries(Number(args.queries));
      await new Promise((r) => setTimeout(r, Number(args['after-queries-ms'])));
    }
    const mem = await new Promise<Omit<Sample, 'readyMs' | 'health'>>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Omit<Sample, 'readyMs' | 'health'>));
      child.send('mem', (err) => err && reject(err));
    });
    return { ...mem, readyMs, health };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    await cleanup();
  }
}

const mb = (b: number) => (b / 1048576).toFixed(1).padStart(7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const services = args.services.split(',').filter(Boolean);
const runs = Math.max(1, Number(args.runs));
let cacheDir: string | undefined;
const extraEnv: Record<string, string> = {};
if (args['compile-cache']) {
  cacheDir = mkdtempSync(join(tmpdir(), 'moma-compile-cache-'));
  extraEnv.NODE_COMPILE_CACHE = cacheDir;
  for (const name of services) await measure(name, extraEnv); // warm the cache; this run is discarded
}

const mode = `TS sources${Number(args.agents) > 0 ? `, ${args.agents} agents` : ''}${Number(args.queries) > 0 ? `, after ${args.queries} queries` : ''}${cacheDir ? ' + NODE_COMPILE_CACHE' : ''}${args['node-args'] ? ` + ${args['node-args']}` : ''}`;
const otel = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
const results: Record<string, Sample> = {};
if (!args.json) {
  console.log(`idle memory, ${mode}; OTLP ${otel ? `→ ${otel}` : 'off'}; settle ${args['settle-ms']} ms; median of ${runs} (MB)`);
  console.log('service        VmRSS  RssAnon  RssFile  heapUsed heapTotal external  arrayBuf  ready ms  healthz');
}
for (const name of services) {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await measure(name, extraEnv));
  const pick = (k: Exclude<keyof Sample, 'health'>) => median(samples.map((s) => s[k]));
  const s: Sample = {
    rss: pick('rss'),
    vmRss: pick('vmRss'),
    rssAnon: pick('rssAnon'),
    rssFile: pick('rssFile'),
    heapUsed: pick('heapUsed'),
    heapTotal: pick('heapTotal'),
    external: pick('external'),
    arrayBuffers: pick('arrayBuffers'),
    readyMs: pick('readyMs'),
    health: samples.at(-1)?.health,
  };
  results[name] = s;
  if (!args.json) {
    console.log(
      `${name.padEnd(12)}${mb(s.vmRss)}  ${mb(s.rssAnon)}  ${mb(s.rssFile)}   ${mb(s.heapUsed)}   ${mb(s.heapTotal)}  ${mb(s.external)}  ${mb(s.arrayBuffers)}  ${s.readyMs.toFixed(0).padStart(7)}  ${String(s.health ?? '-').padStart(7)}`,
    );
  }
}
if (args.json) console.log(JSON.stringify({ mode, otel: otel ?? null, results }));
if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
