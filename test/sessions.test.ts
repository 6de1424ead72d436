// Sessions that never lie, on the real system (every service its own process, real NATS and Redis): turns of one
// session are served one at a time (a turn sent while another is in flight is 409 and leaves nothing behind), so
// 1,000 concurrent turns over 50 sessions end as exact histories, each question right before its own answer; and an
// executor outage leaves no orphan question, however often the client retries.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnFleet, type Fleet } from '@moma/launcher';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { startSystemOnPrivateNats, type System } from './support/system.ts';

const infra = await testInfra();

interface SessionValue {
  history: Array<{ role: string; content: string }>;
  turn?: unknown;
}

describe.skipIf(!infra.ok)(`sessions - serialised turns, exact histories${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  let redis: Redis;
  const keyPrefix = `sessions-${uniqueId()}:`;
  const restarted: Fleet[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI({ record: false, latencyMs: 5 });
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }],
      // A call the fake holds (setHanging) is given up after 4 s and the turn falls back, well inside the gateway's 10 s:
      // whether the slow turn's call reaches the fake before or after the test lifts the hang, it is answered.
      env: { GATEWAY_EXECUTE_TIMEOUT_MS: '10000', EXECUTOR_FIRST_TOKEN_TIMEOUT_MS: '4000' },
    });
    redis = new Redis(infra.redisUrl, { maxRetriesPerRequest: 1 });
  }, 90_000);

  afterAll(async () => {
    for (const f of restarted) {
      f.stop('SIGTERM');
      await f.exited;
    }
    await sys?.stop();
    redis?.disconnect();
    await fake?.close();
  });

  const session = async (id: string): Promise<SessionValue> => JSON.parse((await redis.hget(`${keyPrefix}session:${id}`, 'd'))!) as SessionValue;
  const newSession = async (): Promise<string> => {
    const res = await fetch(`${sys.httpUrl}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return ((await res.json()) as { session_id: string }).session_id;
  };
  const turn = (sid: string, content: string) =>
    fetch(`${sys.httpUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-moma-session-id': sid },
      body: JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content }] }),
    });

  it('sessions - a turn sent while another of its session is in flight is 409 with Retry-After, and leaves no trace', async () => {
    const sid = await newSession();
    fake.setHanging(['*']);
    const first = turn(sid, 'the slow question');
    // Wait until the first turn holds the session, then send a second.
    const deadline = Date.now() + 5000;
    while (!(await session(sid)).turn && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const second = await turn(sid, 'the impatient question');
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain('has a turn in progress');
    fake.setHanging([]);
    // The first turn is answered (the executor gives up on the hanging call and falls back), and only it is recorded:
    // the refused turn left nothing behind, and the session is free again.
    expect((await first).status).toBe(200);
    const answered = /^\[[^\]]+\] the slow question$/;
    expect((await session(sid)).history.map((m) => m.content)).toEqual(['the slow question', expect.stringMatching(answered)]);
    expect((await session(sid)).turn).toBeUndefined();
    const again = await turn(sid, 'the impatient question');
    expect(again.status).toBe(200);
    expect((await session(sid)).history.map((m) => m.content)).toEqual([
      'the slow question',
      expect.stringMatching(answered),
      'the impatient question',
      expect.stringMatching(/^\[[^\]]+\] the impatient question$/),
    ]);
  }, 30_000);

  it('sessions - 1,000 concurrent turns over 50 sessions: every history is exactly its questions, each followed by its own answer', async () => {
    const sids = await Promise.all(Array.from({ length: 50 }, newSession));
    let conflicts = 0;
    const deadline = Date.now() + 120_000;
    // Each turn retries on 409 (as the OpenAI SDKs do), with jitter, within a bound on attempts and time.
    const send = async (sid: string, q: string): Promise<number> => {
      for (let attempt = 0; attempt < 400 && Date.now() < deadline; attempt++) {
        const res = await turn(sid, q);
        await res.arrayBuffer();
        if (res.status !== 409) return res.status;
        conflicts++;
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 180));
      }
      return 409;
    };
    const statuses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => send(sids[i % 50]!, `s${i % 50} q${Math.floor(i / 50)}`)),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(conflicts).toBeGreaterThan(0); // the turns did overlap
    for (const [n, sid] of sids.entries()) {
      const { history, turn: held } = await session(sid);
      expect(held).toBeUndefined();
      expect(history).toHaveLength(40);
      const questions = history.filter((_, i) => i % 2 === 0);
      expect(questions.every((m) => m.role === 'user')).toBe(true);
      history.forEach((m, i) => {
        // The fake answers "[<model>] <the question>".
        if (i % 2 === 1) expect({ role: m.role, question: m.content.replace(/^\[[^\]]+\] /, '') }).toEqual({ role: 'assistant', question: history[i - 1]!.content });
      });
      expect(questions.map((m) => m.content).sort()).toEqual(Array.from({ length: 20 }, (_, k) => `s${n} q${k}`).sort());
    }
  }, 150_000);

  it('sessions - an executor outage leaves no orphan question; the retry after it is recorded once', async () => {
    const sid = await newSession();
    const before = fake.calls();
    process.kill(sys.pids.executor, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (sys.deaths.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 3; i++) {
      const res = await turn(sid, 'asked during the outage');
      expect(res.status).toBe(503);
    }
    expect(await session(sid)).toMatchObject({ history: [] });
    expect((await session(sid)).turn).toBeUndefined();
    const executor = spawnFleet(sys.env, () => undefined, { services: ['executor'], envFor: () => ({ HEALTH_PORT: '0' }) });
    restarted.push(executor);
    let res = await turn(sid, 'asked during the outage');
    while (res.status === 503 && Date.now() < deadline + 20_000) {
      await new Promise((r) => setTimeout(r, 200));
      res = await turn(sid, 'asked during the outage');
    }
    expect(res.status).toBe(200);
    expect((await session(sid)).history.map((m) => m.content)).toEqual(['asked during the outage', expect.stringMatching(/^\[[^\]]+\] asked during the outage$/)]);
    // The provider got the question once: the failed turns sent it nowhere and stored nothing to resend.
    expect(fake.calls() - before).toBe(1);
  }, 60_000);
});
