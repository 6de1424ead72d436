// scratch: could the static distillation answer the queries the lexical expert is unsure of? (a middle path)
import { agentIndexFromState, fitAgentIndex, indexTexts, type AgentSpec } from '@moma/core';
import { loadStaticEncoder } from '@moma/semantic';
import { clincTexts, loadClinc } from './eval-agents/clinc.ts';
import { semanticSource } from './eval-agents/encoders.ts';
const rows = loadClinc('../shared/datasets/clinc150-oos-eval/clinc150.jsonl');
const src = (await semanticSource('use', { cacheDir: '/tmp/moma-cache/eval-agents' }))!;
const stat = await loadStaticEncoder();
const byIntent = new Map<string, string[]>();
for (const r of rows) if (r.split === 'train' && !r.oos) byIntent.set(r.intent, [...(byIntent.get(r.intent) ?? []), r.text]);
const mk = (ids: string[], ex: (id: string) => string[]): AgentSpec[] => ids.map((id) => ({ id, tenants: [], healthy: true, card: { name: id, description: id.replace(/_/g, ' '), url: 'http://127.0.0.1:9/x', version: '1', skills: [{ id, name: id, description: id.replace(/_/g, ' '), tags: [], examples: ex(id) }] } }));
for (const [A, E] of [[30, 20], [150, 100]] as const) {
  const intents = [...byIntent.keys()].slice(0, A);
  const chosen = new Set(intents);
  const agents = mk(intents, (id) => byIntent.get(id)!.slice(0, E));
  const texts = [...new Set([...clincTexts(rows), ...indexTexts(agents)])];
  await src.ensure(texts, 'x');
  const enc = src.lookup(texts);
  const st = fitAgentIndex(agents, undefined, { semantic: enc });
  const ix = agentIndexFromState(st, agents, { semantic: enc });
  const full = agentIndexFromState(st, agents, { semantic: enc, fastPath: 2, fastReject: 0 });
  const qs = rows.filter((r) => r.split === 'test' && (r.oos || chosen.has(r.intent)));
  const t0 = performance.now(); for (const q of qs) stat.encode(q.text); const perQ = (performance.now() - t0) / qs.length;
  const sem = qs.map((r) => ({ r, d: ix.classify(r.text) })).filter(({ d }) => d.path === 'semantic');
  // a second index whose semantic expert is fitted on the static vectors of the card texts
  const sst = fitAgentIndex(agents, undefined, { semantic: stat, jointHead: process.env.JOINT ? {} : false });
  const six = agentIndexFromState(sst, agents, { semantic: stat, fastPath: 2, fastReject: 0 });
  const rec = sem.map(({ r }) => {
    const f = full.classify(r.text);
    const p = six.classify(r.text);
    const top = p.candidates[0]?.score ?? 0, m = top - (p.candidates[1]?.score ?? 0);
    return { r, same: p.candidates[0]?.agentId === f.candidates[0]?.agentId && p.inScope === f.inScope, sameTop: p.candidates[0]?.agentId === f.candidates[0]?.agentId, top, m, fRight: !r.oos && f.inScope && f.candidates[0]?.agentId === r.intent, pRight: !r.oos && p.inScope && p.candidates[0]?.agentId === r.intent, fRej: r.oos && !f.inScope, pRej: r.oos && !p.inScope };
  });
  console.log(`${A}x${E}: ${qs.length} questions, ${sem.length} go to the encoder; static encode ${perQ.toFixed(3)} ms; overall static agrees with full on ${(100 * rec.filter((x) => x.same).length / rec.length).toFixed(1)}% (top ${(100 * rec.filter((x) => x.sameTop).length / rec.length).toFixed(1)}%)`);
  for (const bar of [0.6, 0.7, 0.8, 0.9, 0.95]) {
    const take = rec.filter((x) => x.top >= bar);
    const agree = take.filter((x) => x.same).length;
    const dRight = take.filter((x) => x.pRight).length - take.filter((x) => x.fRight).length;
    const dRej = take.filter((x) => x.pRej).length - take.filter((x) => x.fRej).length;
    console.log(`  static top score ≥ ${bar}: answers ${take.length} (${(100 * take.length / rec.length).toFixed(1)}% of the encoded; no-encoder share → ${(100 * (qs.length - sem.length + take.length) / qs.length).toFixed(1)}%), agrees ${(100 * agree / Math.max(1, take.length)).toFixed(1)}%, in-scope right ${dRight >= 0 ? '+' : ''}${dRight}, OOS rejected ${dRej >= 0 ? '+' : ''}${dRej}`);
  }
}
process.exit(0);
