import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { llmTarget } from '@moma/core/rules';
import { TargetKind } from '@moma/proto';
import { startFakeOpenAI, type FakeOpenAI } from '@moma/testkit';
import { closedPort, decision, execute, runExecutor, type Running } from './test-helpers.ts';

const user = (content: string) => [{ role: 'user', content }];

describe('executor - llm targets', () => {
  let primary: FakeOpenAI;
  let backup: FakeOpenAI;
  let exec: Running;
  let deadPort: number;

  beforeAll(async () => {
    primary = await startFakeOpenAI();
    backup = await startFakeOpenAI();
    deadPort = await closedPort();
    exec = await runExecutor([
      {
        name: 'primary',
        baseUrl: primary.url,
        models: ['small', 'big', 'mapped', 'flaky'],
        modelMap: { mapped: 'upstream-name' },
        prices: { big: { input: 2, output: 10 } },
      },
      { name: 'dead', baseUrl: `http://127.0.0.1:${deadPort}/v1`, models: ['ghost'] },
      // One provider per model here, so a failure moves to the next-ranked model (several providers per model:
      // error-policy.test.ts).
      { name: 'backup', baseUrl: backup.url, models: ['spare'] },
    ]);
  });
  afterAll(async () => {
    await exec.close();
    await primary.close();
    await backup.close();
  });

  it('executor - streams the answer of the first target in several deltas', async () => {
    const r = await execute(exec.client, { decision: decision([llmTarget('small'), llmTarget('big')]), messages: user('tell me about routing') });
    expect(r.error).toBeUndefined();
    expect(r.text).toBe('[small] tell me about routing');
    expect(r.deltas.length).toBeGreaterThan(2);
    expect(r.fallbacks).toEqual([]);
    expect(r.usage?.servedBy).toEqual(llmTarget('small'));
    expect(primary.requests.at(-1)).toMatchObject({ model: 'small', stream: true });
  });

  it('executor - stream=false calls the upstream non-streaming and sends the whole answer on the usage event', async () => {
    const r = await execute(exec.client, { decision: decision([llmTarget('big'), llmTarget('small')]), messages: user('one two three'), stream: false });
    expect(r.error).toBeUndefined();
    expect(r.deltas).toEqual([]);
    expect(r.events.map((e) => e.text)).toEqual(['[big] one two three']);
    expect(primary.requests.at(-1)).toMatchObject({ model: 'big' });
    expect(primary.requests.at(-1)?.stream).toBeFalsy();
    expect(r.usage).toMatchObject({ servedBy: llmTarget('big'), completionTokens: 4 });
  });

  it('executor - stream=false still falls back when the first provider fails', async () => {
    const r = await execute(exec.client, { decision: decision([llmTarget('ghost'), llmTarget('small')]), messages: user('hi'), stream: false });
    expect(r.error).toBeUndefined();
    expect(r.fallbacks).toEqual([llmTarget('ghost')]);
    expect(r.events.at(-1)?.text).toBe('[small] hi');
  });

  it('executor - maps model names per provider and routes unlisted models to the catch-all provider', async () => {
    const local = await runExecutor([
      { name: 'primary', baseUrl: primary.url, models: ['mapped'], modelMap: { mapped: 'upstream-name' } },
      { name: 'backup', baseUrl: backup.url, models: ['*'] },
    ]);
    try {
      const mapped = await execute(local.client, { decision: decision([llmTarget('mapped')]), messages: user('hi') });
      expect(mapped.text).toBe('[upstream-name] hi');
      const other = await execute(local.client, { decision: decision([llmTarget('anything-else')]), messages: user('hi') });
      expect(other.text).toBe('[anything-else] hi');
      expect(backup.requests.at(-1)?.model).toBe('anything-else');
    } finally {
      await local.close();
    }
  });

  it('executor - reports provider usage and prices it per 1M tokens', async () => {
    const r = await execute(exec.client, { decision: decision([llmTarget('big')]), messages: user('one two three') });
    const sent = primary.requests.at(-1);
    expect(sent?.model).toBe('big');
    // The fake reports completion tokens = answer words ("[big] one two three" = 4) and ceil(len/4)+4 per message.
    expect(r.usage?.completionTokens).toBe(4);
    expect(r.usage?.promptTokens).toBe(Math.ceil('one two three'.length / 4) + 4);
    const expected = (r.usage!.promptTokens * 2 + r.usage!.completionTokens * 10) / 1e6;
    expect(r.usage?.costUsd).toBeCloseTo(expected, 12);
    expect(r.usage?.latencyMs).toBeGreaterThan(0);
  });

  it('executor - falls back to the next target when the first answers HTTP 500', async () => {
    primary.setFailing(['flaky']);
    try {
      const r = await execute(exec.client, { decision: decision([llmTarget('flaky'), llmTarget('small')]), messages: user('are you there') });
      expect(r.error).toBeUndefined();
      expect(r.fallbacks).toEqual([llmTarget('flaky')]);
      expect(r.text).toBe('[small] are you there');
      expect(r.usage?.servedBy).toEqual(llmTarget('small'));
      expect(r.usage?.failed).toEqual([llmTarget('flaky')]);
      // The fallback event comes before any text.
      expect(r.events.findIndex((e) => e.fallback)).toBeLessThan(r.events.findIndex((e) => e.delta));
    } finally {
      primary.setFailing([]);
    }
  });

  it('executor - falls back when the provider refuses connections', async () => {
    const r = await execute(exec.client, { decision: decision([llmTarget('ghost'), llmTarget('small')]), messages: user('knock knock') });
    expect(r.error).toBeUndefined();
    expect(r.fallbacks).toEqual([llmTarget('ghost')]);
    expect(r.usage?.failed).toEqual([llmTarget('ghost')]);
    expect(r.text).toBe('[small] knock knock');
  });

  it('executor - falls back on 429 from the provider', async () => {
    const limited = await startFakeOpenAI({ failModels: ['*'], failWith: 429 });
    const local = await runExecutor([
      { name: 'limited', baseUrl: limited.url, models: ['a'] },
      { name: 'ok', baseUrl: backup.url, models: ['b'] },
    ]);
    try {
      const r = await execute(local.client, { decision: decision([llmTarget('a'), llmTarget('b')]), messages: user('hello') });
      expect(r.fallbacks).toEqual([llmTarget('a')]);
      expect(r.text).toBe('[b] hello');
    } finally {
      await local.close();
      await limited.close();
    }
  });

  it('executor - answers UNAVAILABLE listing every failure when all targets fail', async () => {
    primary.setFailing(['flaky']);
    try {
      const r = await execute(exec.client, { decision: decision([llmTarget('flaky'), llmTarget('ghost')]), messages: user('anyone?') });
      expect(r.error?.code).toBe(status.UNAVAILABLE);
      expect(r.error?.details).toContain('llm:flaky: provider primary: HTTP 500');
      expect(r.error?.details).toContain('llm:ghost: provider dead: connection failed');
      expect(r.fallbacks).toEqual([llmTarget('flaky')]);
      expect(r.text).toBe('');
    } finally {
      primary.setFailing([]);
    }
  });

  it('executor - a stream that breaks after output began ends with an error and no second answer', async () => {
    primary.setBreaking(['small']);
    try {
      const r = await execute(exec.client, { decision: decision([llmTarget('small'), llmTarget('big')]), messages: user('long answer please') });
      expect(r.error?.code).toBe(status.UNAVAILABLE);
      expect(r.error?.details).toContain('after output began');
      expect(r.fallbacks).toEqual([]);
      expect(r.text).toBe('[small] ');
      expect(primary.requests.filter((q) => q.model === 'big' && q.messages[0]?.content === 'long answer please')).toHaveLength(0);
    } finally {
      primary.setBreaking([]);
    }
  });

  it('executor - times out a silent provider and falls back', async () => {
    const slow = await startFakeOpenAI({ latencyMs: 1_000 });
    const local = await runExecutor(
      [
        { name: 'slow', baseUrl: slow.url, models: ['slow'] },
        { name: 'ok', baseUrl: backup.url, models: ['fast'] },
      ],
      { firstTokenTimeoutMs: 150 },
    );
    try {
      const r = await execute(local.client, { decision: decision([llmTarget('slow'), llmTarget('fast')]), messages: user('quick') });
      expect(r.fallbacks).toEqual([llmTarget('slow')]);
      expect(r.text).toBe('[fast] quick');
      expect(r.usage?.latencyMs).toBeLessThan(1_000);
    } finally {
      await local.close();
      await slow.close();
    }
  });

  it.each([
    ['no ranked targets', { decision: decision([]), messages: user('x') }, 'no ranked targets'],
    // A target is typed now, so an "unknown prefix" is a target whose kind is neither LLM nor agent.
    ['a target of unknown kind', { decision: decision([{ kind: TargetKind.TARGET_KIND_UNSPECIFIED, id: 'gpt' }]), messages: user('x') }, 'target "gpt" needs a kind (LLM or agent)'],
    ['empty messages', { decision: decision([llmTarget('small')]), messages: [] }, 'messages: must contain at least one message'],
    ['a bad role', { decision: decision([llmTarget('small')]), messages: [{ role: 'robot', content: 'x' }] }, 'messages.0.role: must be one of system, developer, user, assistant, tool (got "robot")'],
    ['no user text', { decision: decision([llmTarget('small')]), messages: [{ role: 'user', content: '  ' }] }, 'messages: the last user message must have non-empty content'],
  ])('executor - rejects %s with INVALID_ARGUMENT', async (_name, req, message) => {
    const r = await execute(exec.client, req);
    expect(r.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(r.error?.details).toContain(message);
  });

  it('executor - stop() lets a running stream finish and refuses new calls', async () => {
    const slow = await startFakeOpenAI({ latencyMs: 300 });
    const local = await runExecutor([{ name: 'slow', baseUrl: slow.url, models: ['*'] }]);
    try {
      const running = execute(local.client, { decision: decision([llmTarget('steady')]), messages: user('finish me') });
      await new Promise((r) => setTimeout(r, 100));
      const stopped = local.handle.stop();
      const late = await execute(local.client, { decision: decision([llmTarget('steady')]), messages: user('too late') });
      expect(late.error?.code).toBe(status.UNAVAILABLE);
      const r = await running;
      expect(r.error).toBeUndefined();
      expect(r.text).toBe('[steady] finish me');
      await stopped;
    } finally {
      await local.close();
      await slow.close();
    }
  });

  it('executor - serves the gRPC health service', async () => {
    const Health = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health');
    const health = new Health(`127.0.0.1:${exec.handle.port}`, credentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
      close(): void;
    };
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      health.check({ service: 'moma.v1.Executor' }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    health.close();
    expect(res.status).toBe('SERVING');
  });
});
