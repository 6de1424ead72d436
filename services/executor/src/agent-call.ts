// One turn with an A2A agent through @a2a-js/sdk: message/stream when the card says the agent streams, else
// message/send; text relayed as it arrives; the task state and ids returned so the conversation can continue.
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type Part, type Task } from '@a2a-js/sdk';
import {
  ClientFactory,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
  type Client,
} from '@a2a-js/sdk/client';
import { estimateTokens } from './accounting.ts';
import { StreamDeadline } from './deadline.ts';
import { TargetFailure, upstreamFailure } from './failure.ts';
import type { Timeouts } from './llm-call.ts';

/** A2A task states as the rest of MoMA names them (the A2A v0.3 wire names). */
export const agentStateName: Record<number, string> = {
  [TaskState.TASK_STATE_SUBMITTED]: 'submitted',
  [TaskState.TASK_STATE_WORKING]: 'working',
  [TaskState.TASK_STATE_COMPLETED]: 'completed',
  [TaskState.TASK_STATE_FAILED]: 'failed',
  [TaskState.TASK_STATE_CANCELED]: 'canceled',
  [TaskState.TASK_STATE_INPUT_REQUIRED]: 'input-required',
  [TaskState.TASK_STATE_REJECTED]: 'rejected',
  [TaskState.TASK_STATE_AUTH_REQUIRED]: 'auth-required',
};

const stateName = (s: TaskState | undefined) => (s === undefined ? 'unknown' : (agentStateName[s] ?? 'unknown'));
// States in which the agent's status message is an answer for the user (a question, a result).
const SPEAKING = new Set(['input-required', 'completed', 'auth-required']);
const FAILING = new Set(['failed', 'rejected', 'canceled']);
const SETTLED = new Set(['input-required', 'completed', 'auth-required']);
const STALE_TASK = /TaskNotFound|terminal state|Task not found/i;

export interface AgentTurn {
  text: string;
  contextId: string;
  taskId: string;
}

export interface AgentResult {
  state: string;
  contextId: string;
  taskId: string;
  promptTokens: number;
  completionTokens: number;
}

interface CachedClient {
  client: Promise<{ client: Client; streaming: boolean }>;
  expires: number;
}

/** Card-resolved A2A clients per agent URL, reused for `ttlMs` and dropped when a call to the agent fails. */
export class AgentClients {
  readonly #ttlMs: number;
  readonly #cache = new Map<string, CachedClient>();
  // v0.3 compatibility on: most deployed agents still speak it; v1.0 agents are unaffected.
  readonly #factory = new ClientFactory({
    transports: [new JsonRpcTransportFactory({ legacyCompat: { enabled: true } }), new RestTransportFactory({ legacyCompat: { enabled: true } })],
    cardResolver: new DefaultAgentCardResolver({ legacyCompat: { enabled: true } }),
  });

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(url: string): Promise<{ client: Client; streaming: boolean }> {
    const now = Date.now();
    const hit = this.#cache.get(url);
    if (hit && hit.expires > now) return hit.client;
    const client = this.#create(url);
    this.#cache.set(url, { client, expires: now + this.#ttlMs });
    client.catch(() => this.#cache.delete(url));
    return client;
  }

  forget(url: string): void {
    this.#cache.delete(url);
  }

  async #create(url: string): Promise<{ client: Client; streaming: boolean }> {
    const client = await this.#fromCardUrls(url);
    const card = await client.getAgentCard();
    return { client, streaming: card.capabilities?.streaming === true };
  }

  // An agent URL may be the card itself, a base under which the card lives, or any URL on the agent's origin.
  async #fromCardUrls(url: string): Promise<Client> {
    const candidates = url.endsWith('.json')
      ? [url]
      : [...new Set([new URL('.well-known/agent-card.json', url.endsWith('/') ? url : `${url}/`).href, new URL('/.well-known/agent-card.json', url).href])];
    let lastErr: unknown;
    for (const cardUrl of candidates) {
      try {
        return await this.#factory.createFromUrl(cardUrl, '');
      } catch (err) {
        lastErr = err;
      }
    }
    throw new Error(`agent card not found at ${candidates.join(' or ')}: ${(lastErr as Error)?.message ?? lastErr}`, { cause: lastErr });
  }
}

function textOfParts(parts: readonly Part[] | undefined): string {
  let s = '';
  for (const p of parts ?? []) if (p.content?.$case === 'text') s += p.content.value;
  return s;
}

function isTask(r: Message | Task): r is Task {
  return 'status' in r && 'id' in r;
}

function taskText(task: Task): string {
  let s = '';
  for (const a of task.artifacts ?? []) s += textOfParts(a.parts);
  if (SPEAKING.has(stateName(task.status?.state))) s += textOfParts(task.status?.message?.parts);
  return s;
}

function userMessage(turn: AgentTurn): Message {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [{ content: { $case: 'text', value: turn.text }, metadata: undefined, filename: '', mediaType: 'text/plain' }],
    contextId: turn.contextId,
    taskId: turn.taskId,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

export async function callAgent(
  clients: AgentClients,
  url: string,
  turn: AgentTurn,
  onDelta: (text: string, ids: { state: string; contextId: string; taskId: string }) => void,
  signal: AbortSignal,
  timeouts: Timeouts,
): Promise<AgentResult> {
  const deadline = new StreamDeadline(signal, { ...timeouts, totalMs: 0 });
  const where = `agent at ${url}`;
  const ids = { state: 'unknown', contextId: turn.contextId, taskId: turn.taskId };
  let out = '';
  let statusText = '';
  const emit = (text: string) => {
    if (!text) return;
    out += text;
    onDelta(text, ids);
  };
  const run = async (t: AgentTurn) => {
    const request = { tenant: '', message: userMessage(t), configuration: undefined, metadata: undefined };
    const { client, streaming } = await clients.get(url);
    if (!streaming) {
      const result = await client.sendMessage(request, { signal: deadline.signal });
      deadline.progress();
      if (isTask(result)) {
        Object.assign(ids, { state: stateName(result.status?.state), contextId: result.contextId, taskId: result.id });
        if (FAILING.has(ids.state)) statusText = textOfParts(result.status?.message?.parts);
        else emit(taskText(result));
      } else {
        Object.assign(ids, { state: 'completed', contextId: result.contextId || ids.contextId, taskId: result.taskId || ids.taskId });
        emit(textOfParts(result.parts));
      }
      return;
    }
    let lastTask: Task | undefined;
    for await (const ev of client.sendMessageStream(request, { signal: deadline.signal })) {
      deadline.progress();
      const p = ev.payload;
      if (!p) continue;
      if (p.$case === 'task') {
        lastTask = p.value;
        Object.assign(ids, { state: stateName(p.value.status?.state), contextId: p.value.contextId, taskId: p.value.id });
      } else if (p.$case === 'message') {
        Object.assign(ids, { state: 'completed', contextId: p.value.contextId || ids.contextId, taskId: p.value.taskId || ids.taskId });
        emit(textOfParts(p.value.parts));
      } else if (p.$case === 'artifactUpdate') {
        emit(textOfParts(p.value.artifact?.parts));
      } else if (p.$case === 'statusUpdate') {
        ids.state = stateName(p.value.status?.state);
        const text = textOfParts(p.value.status?.message?.parts);
        if (SPEAKING.has(ids.state)) emit(text);
        else if (FAILING.has(ids.state)) statusText = text;
      }
    }
    // Agents that only send a final Task snapshot still get their answer relayed.
    if (!out && lastTask && !FAILING.has(ids.state)) emit(taskText(lastTask));
  };
  try {
    try {
      await run(turn);
    } catch (err) {
      // A task that already ended (or that the agent forgot) cannot take the message: start a new task in the same
      // context rather than failing the turn.
      if (!turn.taskId || out || !STALE_TASK.test(`${(err as Error)?.name} ${(err as Error)?.message}`)) throw err;
      ids.taskId = '';
      await run({ ...turn, taskId: '' });
    }
  } catch (err) {
    clients.forget(url);
    throw upstreamFailure(err, deadline, where);
  } finally {
    deadline.dispose();
  }
  if (deadline.cancelled) throw new TargetFailure('cancelled by the caller', { cancelled: true });
  if (FAILING.has(ids.state)) throw new TargetFailure(`${where}: task ${ids.state}${statusText ? ` (${statusText})` : ''}`);
  if (!SETTLED.has(ids.state)) throw new TargetFailure(`${where}: stream ended in state ${ids.state}`);
  return { ...ids, promptTokens: estimateTokens(turn.text), completionTokens: estimateTokens(out) };
}
