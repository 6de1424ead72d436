// scratch: the static path as implemented, over CLINC150 registries of two shapes
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
for (const [A, E] of [[30, 20], [150, 100], [150, 20]] as const) {
  const intents = [...byIntent.keys()].slice(0, A);
  const chosen = new Set(intents);
  const agents = mk(intents, (id) => byIntent.get(id)!.slice(0, E));
  const texts = [...new Set([...clincTexts(rows), ...indexTexts(agents)])];
  await src.ensure(texts, 'x');
  const enc = src.lookup(texts);
  const t0 = performance.now();
  const st = fitAgentIndex(agents, undefined, { semantic: enc, staticSemantic: stat });
  const fitS = (performance.now() - t0) / 1000;
  const qs = rows.filter((r) => r.split === 'test' && (r.oos || chosen.has(r.intent)));
  for (const bar of [2, 0.9, 0.85, 0.8, 0.75]) {
    const ix = agentIndexFromState(st, agents, { semantic: enc, staticSemantic: stat, staticPath: bar });
    let right = 0, ins = 0, rej = 0, oos = 0, noEnc = 0, top1 = 0;
    for (const r of qs) {
      const c = ix.classify(r.text);
      if (c.path !== 'semantic') noEnc++;
      if (r.oos) { oos++; if (!c.inScope) rej++; } else { ins++; if (c.candidates[0]?.agentId === r.intent) { top1++; if (c.inScope) right++; } }
    }
    console.log(`${A}x${E} (fit ${fitS.toFixed(1)} s) static bar ${bar}: without the encoder ${(100 * noEnc / qs.length).toFixed(1)}%, in-scope top-1 ${(100 * top1 / ins).toFixed(2)}%, accepted&right ${(100 * right / ins).toFixed(2)}%, OOS rejected ${(100 * rej / oos).toFixed(1)}%`);
  }
}
process.exit(0);
