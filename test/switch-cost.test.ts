// Conversations that don't bounce, on the real system (every service its own process, real NATS and Redis, a fake
// provider): within a session, leaving the model that answered the previous turn costs the switch cost, so the second
// turn stays on the first turn's model when the fresh choice is only slightly better, and switches when it is clearly
// better; a model that failed earlier in the session goes behind the others. Stateless turns are unaffected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { startSystemOnPrivateNats, type System } from './support/system.ts';

const infra = await testInfra();

interface RankedJson {
  target: string;
  utility: number;
}
interface DecisionJson {
  target: string;
  reason: string;
  ranked: RankedJson[];
}

const PROMPT = 'Write a Python function that merges two sorted lists, and explain its complexity.';
/** The deployment's default switch cost, large enough to keep any model (a request's switch_cost overrides it). */
const DEPLOYMENT_SWITCH_COST = '10';

describe.skipIf(!infra.ok)(`switch cost - a session stays on its model unless another is clearly better${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  const keyPrefix = `switch-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ record: false });
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
      env: { MOMA_SWITCH_COST: DEPLOYMENT_SWITCH_COST, GATEWAY_EXECUTE_TIMEOUT_MS: '10000' },
    });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    await fake?.close();
  });

  const post = async (path: string, body: unknown, sid?: string) => {
    const res = await fetch(`${sys.httpUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(sid ? { 'x-moma-session-id': sid } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(json)).toBe(res.status === 201 ? 201 : 200);
    return { res, json };
  };
  const newSession = async () => (await post('/v1/sessions', {})).json.session_id as string;
  /** One chat turn (only the new question: the session holds the rest); the decision and who answered. */
  const turn = async (sid: string, body: Record<string, unknown>) => {
    const { res, json } = await post('/v1/chat/completions', { messages: [{ role: 'user', content: PROMPT }], ...body }, sid);
    return { decision: (json.moma as { decision: DecisionJson }).decision, servedBy: res.headers.get('x-moma-served-by') };
  };
  /** The fresh ranking of PROMPT in quality mode (stateless: no previous model, whatever the switch cost). */
  const fresh = async (switchCost?: number) =>
    (await post('/v1/route', { messages: [{ role: 'user', content: PROMPT }], mode: 'quality', ...(switchCost !== undefined ? { switch_cost: switchCost } : {}) })).json
      .decision as DecisionJson;

  /** best = the fresh choice; near = second (only slightly worse); far = last (clearly worse); a switch cost between. */
  let best: string;
  let near: string;
  let far: string;
  let switchCost: number;
  let nearGap: number;
  let farGap: number;
  const id = (target: string) => target.replace(/^llm:/, '');

  beforeAll(async () => {
    const ranked = (await fresh()).ranked;
    expect(ranked.length).toBeGreaterThanOrEqual(3);
    best = ranked[0]!.target;
    near = ranked[1]!.target;
    far = ranked.at(-1)!.target;
    nearGap = ranked[0]!.utility - ranked[1]!.utility;
    farGap = ranked[0]!.utility - ranked.at(-1)!.utility;
    expect(farGap).toBeGreaterThan(nearGap);
    switchCost = (nearGap + farGap) / 2;
  });

  it('switch cost - a stateless turn is ranked afresh, whatever the switch cost', async () => {
    const d = await fresh(1000);
    expect(d.target).toBe(best);
    expect(d.reason).not.toMatch(/previous turn/);
  });

  it('switch cost - the second turn stays on the first turn\'s model when the fresh choice is only slightly better', async () => {
    const sid = await newSession();
    // Turn 1 goes to `near` (the client names it); turn 2 is routed, and `best` beats `near` by less than the cost.
    expect((await turn(sid, { model: id(near) })).servedBy).toBe(near);
    const second = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: switchCost });
    expect(second.decision.target).toBe(near);
    expect(second.servedBy).toBe(near);
    expect(second.decision.reason).toContain(`kept ${near} from the previous turn: ${best} is better by only ${nearGap.toFixed(3)} < switch cost ${switchCost.toFixed(3)}`);
    // The fresh choice is still the first fallback.
    expect(second.decision.ranked.map((c) => c.target).slice(0, 2)).toEqual([near, best]);
  }, 30_000);

  it('switch cost - the second turn switches when the fresh choice is clearly better', async () => {
    const sid = await newSession();
    expect((await turn(sid, { model: id(far) })).servedBy).toBe(far);
    const second = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: switchCost });
    expect(second.decision.target).toBe(best);
    expect(second.servedBy).toBe(best);
    expect(second.decision.reason).toContain(`switched from ${far} to ${best}: better by ${farGap.toFixed(3)} ≥ switch cost ${switchCost.toFixed(3)}`);
    // And the conversation now sticks to its new model.
    const third = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: switchCost });
    expect(third.decision.target).toBe(best);
    expect(third.decision.reason).toContain(`stayed on ${best} from the previous turn`);
  }, 30_000);

  it('switch cost - without switch_cost the deployment default (MOMA_SWITCH_COST) applies; switch_cost 0 routes afresh', async () => {
    const sid = await newSession();
    await turn(sid, { model: id(far) });
    const kept = await turn(sid, { model: 'moma/auto', mode: 'quality' });
    expect(kept.decision.target).toBe(far);
    expect(kept.decision.reason).toContain(`< switch cost ${Number(DEPLOYMENT_SWITCH_COST).toFixed(3)}`);
    const afresh = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: 0 });
    expect(afresh.decision.target).toBe(best);
    expect(afresh.decision.reason).not.toMatch(/previous turn/);
  }, 30_000);

  it('switch cost - a model that failed in the session is demoted on the next turn, even below the switch cost', async () => {
    const sid = await newSession();
    fake.setFailing([id(best)]);
    let first;
    try {
      first = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: 0 });
    } finally {
      fake.setFailing([]);
    }
    // `best` was chosen and failed; the executor fell back to `near`, which answered.
    expect(first.decision.target).toBe(best);
    expect(first.servedBy).toBe(near);
    const second = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: 0 });
    expect(second.decision.target).toBe(near);
    expect(second.decision.ranked.at(-1)!.target).toBe(best);
    expect(second.decision.reason).toContain(`demoted ${best}: failed earlier in this session`);
    // A switch cost never brings a failed model back: `near`, which answered, is the one kept.
    const third = await turn(sid, { model: 'moma/auto', mode: 'quality', switch_cost: 1000 });
    expect(third.decision.target).toBe(near);
  }, 30_000);
});
