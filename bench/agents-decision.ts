// Prints the in-process latency of one agent-routing decision (intent classify + orchestrator FSM step) with the
// 150 CLINC150 intents registered as agents. Usage: node bench/agents-decision.ts [path/to/clinc150.jsonl]
import { existsSync, readFileSync } from 'node:fs';
import { buildAgentIndex, decideAgentTurn, type AgentAvailability, type AgentSpec, type FsmState } from '@moma/core';

const path = process.argv[2] ?? '../shared/datasets/clinc150-oos-eval/clinc150.jsonl';
if (!existsSync(path)) {
  console.error(`CLINC150 not found at ${path}; pass its clinc150.jsonl path as the first argument`);
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
let t = performance.now();
const index = buildAgentIndex(agents);
console.log(`agents: ${agents.length}; index built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const avail = new Map<string, AgentAvailability>(agents.map((a) => [a.id, { healthy: true, tenants: [] }]));
const queries = rows.filter((r) => r.split === 'test').map((r) => r.text);
const states: FsmState[] = [{ kind: 'idle' }, { kind: 'engaged', agentId: agents[0]!.id }];
for (let i = 0; i < 300; i++) index.classify(queries[i % queries.length]!); // warm-up (JIT)
const times: number[] = [];
let state: FsmState = states[0]!;
for (let i = 0; i < 3000; i++) {
  const q = queries[(i * 7919) % queries.length]!;
  const ctx = i % 2 ? [{ role: 'user', content: queries[(i * 31) % queries.length]! }] : undefined;
  t = performance.now();
  const c = index.classify(q, ctx);
  const d = decideAgentTurn({ state, classify: c, tenant: 't', agents: avail });
  times.push(performance.now() - t);
  state = d.agentId ? d.next : states[i % 2]!;
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(3);
console.log(`decision latency over ${times.length} queries (classify + decideAgentTurn): median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`);
