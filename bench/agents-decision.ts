// Prints the in-process latency of one agent-routing decision (intent classify + orchestrator FSM step) with the
// 150 CLINC150 intents registered as agents, and the index's build time.
//
//   node bench/agents-decision.ts [path/to/clinc150.jsonl] [--encoder lexical|use] [--n 3000]
//
// With --encoder use, the decision is what the intent service does: the lexical expert answers when it is sure
// (the fast path), otherwise the query is embedded by the full encoder (a fresh text: no cache hit) and both experts
// answer. The card texts' vectors come from eval-agents' vector file (embedded once: ~5 min cold), so the
// build time printed is the fit's, from vectors; the cold embedding time is printed when it happens.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildAgentIndex, decideAgentTurn, indexTexts, LookupEncoder, type AgentAvailability, type AgentSpec, type FsmState } from '@moma/core';
import { loadUseModel, SemanticCache } from '@moma/semantic';
import { defaultCacheDir } from '../packages/cli/src/eval-agents/cache.ts';
import { VectorCache } from '../packages/cli/src/eval-agents/vector-cache.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { encoder: { type: 'string', default: 'lexical' }, n: { type: 'string', default: '3000' } },
});
const path = positionals[0] ?? '../shared/datasets/clinc150-oos-eval/clinc150.jsonl';
if (!existsSync(path)) {
  console.error(`CLINC150 not found at ${path}; pass its clinc150.jsonl path as the first argument`);
  process.exit(2);
}
if (values.encoder !== 'lexical' && values.encoder !== 'use') {
  console.error('--encoder is lexical or use');
  process.exit(2);
}
interface Row {
  split: string;
  text: string;
  intent: string;
  domain: string | null;
  oos: boolean;
}
const rows = readFileSync(path, 'utf8')
  .split('\n')
  .filter((l) => l)
  .map((l) => JSON.parse(l) as Row);
const byIntent = new Map<string, { domain: string; examples: string[] }>();
for (const r of rows) {
  if (r.split !== 'train' || r.oos) continue;
  const e = byIntent.get(r.intent) ?? { domain: r.domain!, examples: [] };
  e.examples.push(r.text);
  byIntent.set(r.intent, e);
}
const agents: AgentSpec[] = [...byIntent].map(([id, e]) => ({
  id,
  tenants: [],
  healthy: true,
  category: e.domain,
  card: { name: id, description: '', url: `http://a/${id}`, version: '1', skills: [{ id, name: id, description: '', tags: [], examples: e.examples }] },
}));
const queries = [...new Set(rows.filter((r) => r.split === 'test').map((r) => r.text))];
const n = Math.min(Number(values.n), queries.length - 300);

const semantic = values.encoder === 'use' ? new SemanticCache(await loadUseModel()) : null;
let options = {};
if (semantic) {
  const texts = indexTexts(agents);
  // the same vector file `moma eval-agents --encoder use` keeps
  const store = VectorCache.open(defaultCacheDir(), semantic.id, semantic.dim);
  await store.ensure(texts, (batch) => semantic.embedAll(batch), { log: (m) => console.log(m), what: 'card texts' });
  const vecs = texts.map((t) => store.get(t)!);
  options = { semantic: new LookupEncoder(semantic.id, semantic.dim, new Map(texts.map((t, i) => [t, vecs[i]!]))), semanticAtQuery: true };
}
let t = performance.now();
const index = buildAgentIndex(agents, undefined, options);
console.log(`agents: ${agents.length}; encoder: ${semantic?.id ?? 'lexical'}; index built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const avail = new Map<string, AgentAvailability>(agents.map((a) => [a.id, { healthy: true, tenants: [] }]));
const states: FsmState[] = [{ kind: 'idle' }, { kind: 'engaged', agentId: agents[0]!.id }];

async function classify(q: string, ctx: Array<{ role: string; content: string }> | undefined) {
  const first = index.classify(q, ctx);
  if (first.path !== 'needs-semantic' || !semantic) return first;
  const [v, ...c] = await semantic.embed([q, ...(ctx ?? []).map((m) => m.content)]);
  return index.classify(q, ctx, undefined, { text: v!, context: c });
}
// warm-up (JIT, and the model's first calls) on queries the measured loop does not use
for (let i = 0; i < 300; i++) await classify(queries[queries.length - 1 - i]!, undefined);
const times: number[] = [];
const paths = new Map<string, number>();
let state: FsmState = states[0]!;
for (let i = 0; i < n; i++) {
  // distinct texts, each seen once: no cache hit flatters the figures
  const q = queries[i]!;
  const ctx = i % 2 ? [{ role: 'user', content: queries[(i * 31) % n]! }] : undefined;
  t = performance.now();
  const c = await classify(q, ctx);
  const d = decideAgentTurn({ state, classify: c, tenant: 't', agents: avail });
  times.push(performance.now() - t);
  paths.set(c.path ?? 'lexical', (paths.get(c.path ?? 'lexical') ?? 0) + 1);
  state = d.agentId ? d.next : states[i % 2]!;
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
console.log(`decision latency over ${times.length} queries (classify + decideAgentTurn): median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`);
console.log(`answered by: ${[...paths].map(([k, v]) => `${k} ${((100 * v) / times.length).toFixed(1)}%`).join(', ')}`);
