import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalClinc } from './clinc.ts';
import { runEvalAgents } from './index.ts';
import { canonicalService, domainOf, sgdAgents, taskStateOf } from './sgd-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'eval-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eval-agents', () => {
  it.each([
    [['REQUEST'], 'input-required'],
    [['OFFER', 'INFORM_COUNT'], 'input-required'],
    [['CONFIRM'], 'input-required'],
    [['NOTIFY_SUCCESS'], 'completed'],
    [['NOTIFY_FAILURE', 'REQ_MORE'], 'failed'],
    [['GOODBYE'], 'completed'],
  ])('eval-agents - system acts %j map to task state %s', (acts, state) => {
    expect(taskStateOf(acts)).toBe(state);
  });

  it('eval-agents - SGD-X service names map back to the original service', () => {
    expect(canonicalService('Banks_25', true)).toBe('Banks_2');
    expect(canonicalService('Banks_2', false)).toBe('Banks_2');
    expect(domainOf('Hotels_4')).toBe('Hotels');
  });

  it('eval-agents - SGD schema services become cards from descriptions only', () => {
    const p = join(dir, 'schema.json');
    const schema = [{
      service_name: 'Buses_1',
      description: 'Book bus journeys',
      slots: [{ name: 'to_city', description: 'Destination city' }],
      intents: [{ name: 'FindBus', description: 'Find a bus journey', required_slots: ['to_city'], optional_slots: {} }],
    }];
    writeFileSync(p, JSON.stringify(schema));
    const [a] = sgdAgents(p);
    expect(a!.id).toBe('Buses_1');
    expect(a!.card.skills[0]).toEqual({ id: 'FindBus', name: 'FindBus', description: 'Find a bus journey. Destination city', tags: [], examples: [] });
  });

  it('eval-agents - CLINC evaluation runs end to end on the committed excerpt', () => {
    const mini = JSON.parse(readFileSync(new URL('../../../core/src/agents/fixtures/clinc-mini.json', import.meta.url), 'utf8')) as Record<string, Array<{ text: string; intent: string; domain: string | null }>>;
    const lines = (['train', 'val', 'test'] as const).flatMap((split) => mini[split]!.map((r) => JSON.stringify({ split, ...r, oos: r.intent === 'oos' })));
    const p = join(dir, 'clinc.jsonl');
    writeFileSync(p, lines.join('\n'));
    const m = evalClinc(p, { head: { epochs: 8 } });
    expect(m.agents).toBe(8);
    expect(m.inScopeAccuracyNoReject).toBeGreaterThanOrEqual(0.8);
    for (const x of [m.inScopeAccuracy, m.oosRecall, m.oosPrecision]) expect(x).toBeGreaterThanOrEqual(0);
    expect(m.inScopeAccuracy).toBeLessThanOrEqual(m.inScopeAccuracyNoReject);
  });

  it('eval-agents - bad arguments exit with 2', async () => {
    expect(await runEvalAgents([])).toBe(2);
    expect(await runEvalAgents(['--bogus'])).toBe(2);
  });
});
