import { readFileSync } from 'node:fs';
import { createLogger, MemoryBus, MemoryStore, Subjects } from '@moma/platform';
import { Agent, ClassifyRequest, ClassifyResponse, RegistryChanged } from '@moma/proto';
import { startIntent } from './app.ts';
const rows = readFileSync('/work/shared/datasets/clinc150-oos-eval/clinc150.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const byIntent = new Map<string, string[]>();
for (const r of rows) if (r.split === 'train' && r.intent !== 'oos') { const a = byIntent.get(r.intent) ?? []; a.push(r.text); byIntent.set(r.intent, a); }
const test = rows.filter((r) => r.split === 'test').map((r) => r.text as string).slice(0, 2000);
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(a.length * p)]!;
for (const worker of [true, false]) {
  const bus = new MemoryBus(); const store = new MemoryStore();
  for (const [intent, ex] of byIntent) {
    const id = intent.replace(/_/g, '-');
    await store.put(`agent:${id}`, Agent.toJSON(Agent.fromPartial({ id, healthy: true, card: { name: id, description: intent.replace(/_/g, ' '), url: 'http://x/a', version: '1', skills: [{ id: 'm', name: id, description: intent.replace(/_/g, ' '), examples: ex.slice(0, 20) }] } })));
  }
  const logger = createLogger('perf', { level: 'silent' });
  const t0 = performance.now();
  const h = await startIntent({ name: 'intent', bus, store, logger }, { MOMA_INTENT_INDEX_WORKER: worker });
  const startMs = performance.now() - t0;
  const ask = (q: string) => bus.request(Subjects.intentClassify, { text: q, context: [], topK: 3, tenant: '' }, ClassifyRequest, ClassifyResponse);
  for (const q of test.slice(0, 200)) await ask(q);
  const ts: number[] = [];
  for (const q of test) { const s = performance.now(); await ask(q); ts.push(performance.now() - s); }
  // keep asking while a rebuild runs: the worst latency shows whether the rebuild stalls requests
  await bus.publish(Subjects.eventsRegistry, { op: 'upsert', agentId: 'x', version: 1 }, RegistryChanged);
  const during: number[] = []; const rebuildStart = performance.now();
  const rebuilding = h.reload();
  let done = false; void rebuilding.then(() => (done = true));
  let i = 0;
  while (!done) { const s = performance.now(); await ask(test[i++ % test.length]!); during.push(performance.now() - s); }
  console.log(`${worker ? 'worker' : 'inline'}: 150 agents, start ${startMs.toFixed(0)} ms; classify over MemoryBus median ${med(ts).toFixed(3)} ms p99 ${pct(ts, 0.99).toFixed(3)} ms; during a ${(performance.now() - rebuildStart).toFixed(0)} ms rebuild: ${during.length} requests, max ${Math.max(...during).toFixed(1)} ms`);
  await h.stop();
}
