import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { agentTarget, llmTarget } from '@moma/core/rules';
import { startA2AAgent, startFakeOpenAI, weatherAgentReply, type A2AAgent, type FakeOpenAI } from '@moma/testkit';
import { decision, execute, runExecutor, type Running } from './test-helpers.ts';

describe('executor - agent targets', () => {
  let weather: A2AAgent;
  let blocking: A2AAgent;
  let rejecting: A2AAgent;
  let llm: FakeOpenAI;
  let exec: Running;

  beforeAll(async () => {
    weather = await startA2AAgent();
    blocking = await startA2AAgent({ name: 'Blocking Weather', streaming: false });
    rejecting = await startA2AAgent({ name: 'Picky', respond: () => ({ state: 'rejected', text: 'out of my scope' }) });
    llm = await startFakeOpenAI();
    exec = await runExecutor([{ name: 'local', baseUrl: llm.url, models: ['*'] }], {
      agents: { picky: rejecting.url, weather: weather.url },
    });
  });
  afterAll(async () => {
    await exec.close();
    await Promise.all([weather.close(), blocking.close(), rejecting.close(), llm.close()]);
  });

  it('executor - agent asks for missing input, then completes the same task on the next call', async () => {
    const first = await execute(exec.client, {
      decision: decision([agentTarget('weather'), llmTarget('fallback')]),
      messages: [{ role: 'user', content: 'what is the weather like?' }],
      agentUrl: weather.url,
    });
    expect(first.error).toBeUndefined();
    expect(first.text).toBe('Which city would you like the weather for?');
    const end = first.events.at(-1);
    expect(end?.usage?.servedBy).toEqual(agentTarget('weather'));
    expect(end?.agentState).toBe('input-required');
    expect(end?.agentContextId).not.toBe('');
    expect(end?.agentTaskId).not.toBe('');

    const second = await execute(exec.client, {
      decision: decision([agentTarget('weather'), llmTarget('fallback')]),
      messages: [
        { role: 'user', content: 'what is the weather like?' },
        { role: 'assistant', content: first.text },
        { role: 'user', content: 'Oslo' },
      ],
      agentUrl: weather.url,
      agentContextId: end!.agentContextId,
      agentTaskId: end!.agentTaskId,
    });
    expect(second.error).toBeUndefined();
    expect(second.text).toBe(weatherAgentReply({ text: 'Oslo', contextId: '', taskId: '', history: [] }).text);
    const done = second.events.at(-1);
    expect(done?.agentState).toBe('completed');
    expect(done?.agentTaskId).toBe(end!.agentTaskId);
    expect(done?.agentContextId).toBe(end!.agentContextId);
    expect(weather.turns.at(-1)).toMatchObject({ text: 'Oslo', history: ['what is the weather like?'], taskId: end!.agentTaskId });
    expect(llm.requests).toHaveLength(0);

    // A later turn that still carries the finished task id starts a new task in the same context.
    const third = await execute(exec.client, {
      decision: decision([agentTarget('weather'), llmTarget('fallback')]),
      messages: [{ role: 'user', content: 'and the weather in Paris?' }],
      agentUrl: weather.url,
      agentContextId: end!.agentContextId,
      agentTaskId: end!.agentTaskId,
    });
    expect(third.error).toBeUndefined();
    expect(third.fallbacks).toEqual([]);
    expect(third.text).toContain('Weather in Paris');
    expect(third.events.at(-1)?.agentContextId).toBe(end!.agentContextId);
    expect(third.events.at(-1)?.agentTaskId).not.toBe(end!.agentTaskId);
  });

  it('executor - talks to a non-streaming agent with message/send', async () => {
    const r = await execute(exec.client, {
      decision: decision([agentTarget('blocking')]),
      messages: [{ role: 'user', content: 'weather in Rome?' }],
      agentUrl: blocking.url,
    });
    expect(r.error).toBeUndefined();
    expect(r.text).toBe(weatherAgentReply({ text: 'weather in Rome?', contextId: '', taskId: '', history: [] }).text);
    expect(r.events.at(-1)?.agentState).toBe('completed');
  });

  it('executor - a rejecting agent falls back to the next ranked LLM', async () => {
    const r = await execute(exec.client, {
      decision: decision([agentTarget('picky'), llmTarget('general')]),
      messages: [{ role: 'user', content: 'book me a flight' }],
    });
    expect(r.error).toBeUndefined();
    expect(r.fallbacks).toEqual([agentTarget('picky')]);
    expect(r.text).toBe('[general] book me a flight');
    expect(r.usage?.servedBy).toEqual(llmTarget('general'));
  });

  it('executor - an unreachable agent with no fallback gives UNAVAILABLE naming it', async () => {
    const r = await execute(exec.client, {
      decision: decision([agentTarget('gone')]),
      messages: [{ role: 'user', content: 'hello' }],
      agentUrl: 'http://127.0.0.1:9/',
    });
    expect(r.error?.code).toBe(status.UNAVAILABLE);
    expect(r.error?.details).toContain('agent:gone');
  });
});
