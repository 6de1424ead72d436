import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role, TaskState, type Message, type Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { startA2AAgent, weatherAgentReply, type A2AAgent } from './a2a-agent.ts';

let agent: A2AAgent;
beforeAll(async () => {
  agent = await startA2AAgent();
});
afterAll(async () => {
  await agent.close();
});

function userMessage(text: string, contextId = '', taskId = ''): Message {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [{ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
    contextId,
    taskId,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const send = (message: Message) => ({ tenant: '', message, configuration: undefined, metadata: undefined });

describe('a2a-agent', () => {
  it('a2a-agent - serves its card at the well-known path with skills and a JSON-RPC interface', async () => {
    const res = await fetch(`${agent.url}/.well-known/agent-card.json`);
    expect(res.status).toBe(200);
    const card = (await res.json()) as { name: string; url: string; skills: Array<{ id: string }>; supportedInterfaces: Array<{ protocolBinding: string }> };
    expect(card.name).toBe('Weather Agent');
    expect(card.url).toBe(agent.url);
    expect(card.skills[0]?.id).toBe('weather-forecast');
    expect(card.supportedInterfaces.map((i) => i.protocolBinding)).toContain('JSONRPC');
  });

  it('a2a-agent - asks for the city (input-required), then completes on the same task', async () => {
    const client = await new ClientFactory().createFromUrl(agent.url);
    const first = (await client.sendMessage(send(userMessage('what is the weather like?')))) as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const question = first.status?.message?.parts[0]?.content;
    expect(question?.$case === 'text' && question.value).toContain('Which city');

    const events = [];
    for await (const ev of client.sendMessageStream(send(userMessage('Lisbon', first.contextId, first.id)))) events.push(ev);
    const text = events
      .map((e) => (e.payload?.$case === 'artifactUpdate' ? (e.payload.value.artifact?.parts ?? []) : []))
      .flat()
      .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
      .join('');
    expect(text).toBe(weatherAgentReply({ text: 'Lisbon', contextId: '', taskId: '', history: ['x'] }).text);
    const last = events.at(-1)?.payload;
    expect(last?.$case === 'statusUpdate' && last.value.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(last?.$case === 'statusUpdate' && last.value.taskId).toBe(first.id);
    expect(agent.turns.at(-1)?.history).toEqual(['what is the weather like?']);
  });

  it('a2a-agent - a custom respond function can reject', async () => {
    const rejecting = await startA2AAgent({ name: 'Picky', respond: () => ({ state: 'rejected', text: 'not my job' }) });
    try {
      const client = await new ClientFactory().createFromUrl(rejecting.url);
      const task = (await client.sendMessage(send(userMessage('book a flight')))) as Task;
      expect(task.status?.state).toBe(TaskState.TASK_STATE_REJECTED);
    } finally {
      await rejecting.close();
    }
  });
});
