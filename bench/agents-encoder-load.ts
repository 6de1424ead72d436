// The semantic encoder's cost through the distributed system (prints figures; not a test): the same system — every
// service its own process on NATS and Redis — with CLINC150 intents registered as agents, driven through
// `POST /v1/route` (the whole decision: gateway, intent, scoring, orchestrator; no execution, since the registered
// agents are names without servers and a chat turn routed to one would time the failover instead) at 1 connection
// with a different CLINC150 test question in every request (no cache hits), once with MOMA_AGENT_ENCODER=lexical and
// once with =use, in one run. A chat turn adds the same execution cost to both.
//
//   node bench/agents-encoder-load.ts [path/to/clinc150.jsonl] [--agents 30] [--examples 20]
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { testInfra, uniqueId } from '@moma/testkit';
import { round, startUpstream } from './load-kit.ts';
import { startPrivateNats, startSystem } from '../test/support/system.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { agents: { type: 'string', default: '30' }, examples: { type: 'string', default: '20' } },
});
const path = positionals[0] ?? '../shared/datasets/clinc150-oos-eval/clinc150.jsonl';
if (!existsSync(path)) {
  console.error(`CLINC150 not found at ${path}; pass its clinc150.jsonl path as the first argument`);
  process.exit(2);
}
const rows = readFileSync(path, 'utf8')
  .split('\n')
  .filter((l) => l)
  .map((l) => JSON.parse(l) as { split: string; text: string; intent: string; oos: boolean });
const byIntent = new Map<string, string[]>();
for (const r of rows) if (r.split === 'train' && !r.oos) byIntent.set(r.intent, [...(byIntent.get(r.intent) ?? []), r.text]);
const intents = [...byIntent.keys()].slice(0, Number(args.agents));
const chosen = new Set(intents);
// questions for these intents and out-of-scope ones, each sent once
const questions = [...new Set(rows.filter((r) => r.split === 'test' && (r.oos || chosen.has(r.intent))).map((r) => r.text))];

async function run(encoder: 'lexical' | 'use', natsUrl: string, redisUrl: string, upstreamUrl: string) {
  const sys = await startSystem({
    natsUrl,
    redisUrl,
    keyPrefix: `bench-${uniqueId()}:`,
    providers: [{ name: 'bench', baseUrl: upstreamUrl, models: ['*'] }],
    env: { MOMA_AGENT_ENCODER: encoder, MOMA_INTENT_WORKER_MIN_AGENTS: '0', OTEL_SDK_DISABLED: 'true' },
  });
  try {
    for (const id of intents) {
      const card = { name: id, description: id.replace(/_/g, ' '), url: `http://127.0.0.1:9/${id}`, version: '1', skills: [{ id, name: id, description: id.replace(/_/g, ' '), tags: [], examples: byIntent.get(id)!.slice(0, Number(args.examples)) }] };
      const res = await fetch(`${sys.httpUrl}/v1/agents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ card }) });
      if (!res.ok) throw new Error(`register ${id}: ${res.status} ${await res.text()}`);
    }
    // the index is rebuilt as registrations arrive: wait (at most 3 min: 150 agents × 100 examples embed for about a
    // minute) until the serving index holds every agent (intent's moma_intent_index_agents gauge)
    let ready = false;
    for (let i = 0; i < 900 && !ready; i++) {
      const text = await (await fetch(`${sys.healthUrls.intent}/metrics`)).text();
      ready = Number(/^moma_intent_index_agents(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0) === intents.length;
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    if (!ready) throw new Error(`${encoder}: the index did not serve all ${intents.length} agents within 3 min`);
    const pathsBefore = await intentPaths(sys.healthUrls.intent);
    let next = 0;
    const times: number[] = [];
    let agentTurns = 0;
    const instance = autocannon({
      url: `${sys.httpUrl}/v1/route`,
      connections: 1,
      // each question once: a repeat would be answered from the encoder's cache
      amount: questions.length,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (req: Record<string, unknown>) => ({ ...req, body: JSON.stringify({ messages: [{ role: 'user', content: questions[next++ % questions.length] }] }) }),
          onResponse: (status: number, body: string) => {
            if (status === 200 && body.includes('"kind":"agent"')) agentTurns++;
          },
        },
      ],
    });
    instance.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
      if (status === 200) times.push(ms);
    });
    const result = await instance;
    const pathsAfter = await intentPaths(sys.healthUrls.intent);
    const paths = Object.fromEntries(Object.entries(pathsAfter).map(([k, v]) => [k, v - (pathsBefore[k] ?? 0)]).filter(([, v]) => (v as number) > 0)) as Record<string, number>;
    times.sort((a, b) => a - b);
    const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? NaN;
    return { encoder, requests: times.length, distinct: Math.min(next, questions.length), p50: round(pct(50)), p90: round(pct(90)), p99: round(pct(99)), errors: result.errors + result.non2xx, agentTurns, paths };
  } finally {
    await sys.stop();
  }
}

/** The intent stage's classifications so far by the path that answered (moma_intent_classifications_total on /metrics). */
async function intentPaths(healthUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${healthUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^moma_intent_classifications_total\{([^}]*)\} (\S+)$/gm)) {
    const path = /path="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
    out[path] = (out[path] ?? 0) + Number(m[2]);
  }
  return out;
}

const infra = await testInfra();
if (!infra.ok) {
  console.error(`agents-encoder-load: cannot run (${infra.reason})`);
  process.exit(1);
}
const upstream = await startUpstream();
const nats = await startPrivateNats();
try {
  const lexical = await run('lexical', nats?.url ?? infra.natsUrl, infra.redisUrl, upstream.url);
  const use = await run('use', nats?.url ?? infra.natsUrl, infra.redisUrl, upstream.url);
  console.log(`\nagents-encoder-load: ${intents.length} CLINC150 agents × ${args.examples} examples, 1 connection, ${questions.length} requests per run (every question once)`);
  console.log(`${'encoder'.padEnd(10)} ${'req'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p90 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`);
  for (const r of [lexical, use]) console.log(`${r.encoder.padEnd(10)} ${String(r.requests).padStart(6)} ${r.p50.toFixed(2).padStart(8)} ${r.p90.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`);
  console.log(`routed to an agent: lexical ${lexical.agentTurns}, use ${use.agentTurns}`);
  const share = (p: Record<string, number>, keys: string[]) => keys.reduce((n, k) => n + (p[k] ?? 0), 0) / Math.max(1, Object.values(p).reduce((a, b) => a + b, 0));
  console.log(`intent paths with use: ${JSON.stringify(use.paths)}: ${(100 * share(use.paths, ['fast', 'fast-reject', 'static'])).toFixed(1)}% answered without the encoder (the p50 moves by the encoder's cost once fewer than half are)`);
  console.log(`decision p50 with the encoder − without: ${round(use.p50 - lexical.p50)} ms (budget ≤ 1 ms); p99: ${round(use.p99 - lexical.p99)} ms`);
} finally {
  await upstream.stop();
  await nats?.stop();
}
