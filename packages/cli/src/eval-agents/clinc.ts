import { readFileSync } from 'node:fs';
import { buildAgentIndex, calibrateThreshold, thresholdMetrics, type AgentIndexOptions, type AgentSpec, type CalibrationSample, type Taxonomy } from '@moma/core';

interface Row {
  split: 'train' | 'val' | 'test';
  text: string;
  intent: string;
  domain: string | null;
  oos: boolean;
}

export interface ClincMetrics {
  agents: number;
  categories: number;
  testInScope: number;
  testOos: number;
  inScopeAccuracyNoReject: number;
  inScopeAccuracy: number;
  oosRecall: number;
  oosPrecision: number;
  threshold: number;
  /** Top-1 category (domain) accuracy on in-scope test queries. */
  domainAccuracy: number;
  val: { inScopeAccuracy: number; oosRecall: number };
  fitSeconds: number;
}

export function loadClinc(path: string): Row[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
}

/** The 150 intents become agents whose only skill lists their train utterances; the 10 domains are the taxonomy. */
export function clincAgents(rows: readonly Row[]): { agents: AgentSpec[]; taxonomy: Taxonomy } {
  const byIntent = new Map<string, { domain: string; examples: string[] }>();
  for (const r of rows) {
    if (r.split !== 'train' || r.oos || !r.domain) continue;
    const e = byIntent.get(r.intent) ?? { domain: r.domain, examples: [] };
    e.examples.push(r.text);
    byIntent.set(r.intent, e);
  }
  const agents: AgentSpec[] = [...byIntent.entries()].map(([intent, e]) => ({
    id: intent,
    tenants: [],
    healthy: true,
    card: {
      name: intent,
      description: '',
      url: `http://agents.local/${intent}`,
      version: '1.0.0',
      skills: [{ id: intent, name: intent, description: '', tags: [e.domain], examples: e.examples }],
    },
  }));
  const domains = new Map<string, string[]>();
  for (const [intent, e] of byIntent) domains.set(e.domain, [...(domains.get(e.domain) ?? []), intent]);
  const taxonomy: Taxonomy = {
    categories: [...domains.entries()].map(([id, agentIds]) => ({ id, description: id.replace(/_/g, ' '), agentIds })),
  };
  return { agents, taxonomy };
}

export function evalClinc(path: string, options: AgentIndexOptions = {}, log: (m: string) => void = () => {}): ClincMetrics {
  const rows = loadClinc(path);
  const { agents, taxonomy } = clincAgents(rows);
  const domainOf = new Map(agents.map((a) => [a.id, a.card.skills[0]!.tags[0]!]));
  log(`clinc: fitting ${agents.length} agents`);
  const t0 = performance.now();
  const index = buildAgentIndex(agents, taxonomy, options);
  const fitSeconds = (performance.now() - t0) / 1000;
  const sample = (r: Row): CalibrationSample & { pred: string; cat: string } => {
    const c = index.classify(r.text);
    const top = c.candidates[0];
    return { score: top?.score ?? 0, inScope: !r.oos, correct: !r.oos && top?.agentId === r.intent, pred: top?.agentId ?? '', cat: c.categories[0]?.category ?? '' };
  };
  log('clinc: calibrating on val');
  const val = rows.filter((r) => r.split === 'val').map(sample);
  const cal = calibrateThreshold(val);
  log('clinc: scoring test');
  const testRows = rows.filter((r) => r.split === 'test');
  const test = testRows.map(sample);
  const ins = test.filter((s) => s.inScope);
  const m = thresholdMetrics(test, cal.threshold);
  const rejectedOos = test.filter((s) => !s.inScope && s.score < cal.threshold).length;
  const rejected = test.filter((s) => s.score < cal.threshold).length;
  let domOk = 0;
  testRows.forEach((r, i) => {
    if (!r.oos && test[i]!.cat === r.domain) domOk++;
  });
  return {
    agents: agents.length,
    categories: taxonomy.categories.length,
    testInScope: ins.length,
    testOos: test.length - ins.length,
    inScopeAccuracyNoReject: ins.filter((s) => s.correct).length / ins.length,
    inScopeAccuracy: m.inScopeAccuracy,
    oosRecall: m.oosRecall,
    oosPrecision: rejected ? rejectedOos / rejected : 0,
    threshold: cal.threshold,
    domainAccuracy: domOk / ins.length,
    val: { inScopeAccuracy: cal.inScopeAccuracy, oosRecall: cal.oosRecall },
    fitSeconds,
  };
}
