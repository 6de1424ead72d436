// A real A2A agent server built with @a2a-js/sdk (JSON-RPC + REST over express), standing in for a specialised agent.
// By default a weather agent: it asks which city when none is given (input-required) and completes once it has one,
// so it exercises multi-turn conversations through contextId/taskId.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { AGENT_CARD_PATH, Role, TaskState, type AgentCard, type AgentSkill, type Message, type Part } from '@a2a-js/sdk';
import {
  AgentEvent,
  DefaultRequestHandler,
  InMemoryTaskStore,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler, UserBuilder } from '@a2a-js/sdk/server/express';

export type A2AAgentState = 'completed' | 'input-required' | 'failed' | 'rejected';

export interface A2AAgentTurn {
  /** Text of the user's message this turn. */
  text: string;
  contextId: string;
  taskId: string;
  /** Earlier user texts in the same task (non-empty when continuing after input-required). */
  history: string[];
}

export interface A2AAgentReply {
  state: A2AAgentState;
  text: string;
}

export interface A2AAgentSkillInput {
  id: string;
  name: string;
  description: string;
  tags?: string[];
  examples?: string[];
}

export interface A2AAgentOptions {
  port?: number;
  host?: string;
  name?: string;
  description?: string;
  skills?: A2AAgentSkillInput[];
  /** URL other hosts reach the agent at (containers, pods); default http://<host>:<port>. */
  publicUrl?: string;
  /** Advertise and serve message/stream; default true. */
  streaming?: boolean;
  /** The agent's behaviour; default the weather agent (`weatherAgentReply`). */
  respond?: (turn: A2AAgentTurn) => A2AAgentReply | Promise<A2AAgentReply>;
}

export interface A2AAgent {
  /** Base URL; the card is at `${url}/.well-known/agent-card.json`. */
  url: string;
  card: AgentCard;
  /** Every turn the agent received, in order. */
  turns: A2AAgentTurn[];
  close(): Promise<void>;
}

const CITIES = [
  'Amsterdam', 'Athens', 'Berlin', 'Boston', 'Chicago', 'Dublin', 'Lisbon', 'London', 'Madrid', 'Mumbai',
  'New York', 'Oslo', 'Paris', 'Prague', 'Rome', 'San Francisco', 'Seoul', 'Sydney', 'Tokyo', 'Toronto', 'Vienna',
];
const CONDITIONS = ['sunny', 'cloudy', 'rainy', 'windy', 'foggy', 'snowy'];

function findCity(text: string): string | undefined {
  const lower = text.toLowerCase();
  const known = CITIES.find((c) => new RegExp(`\\b${c.toLowerCase()}\\b`).test(lower));
  if (known) return known;
  return /\b(?:in|for|at)\s+([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)/.exec(text)?.[1];
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The default behaviour: a weather agent that needs a city. The forecast is derived from the city's name. */
export function weatherAgentReply(turn: A2AAgentTurn): A2AAgentReply {
  let city = findCity(turn.text) ?? turn.history.map(findCity).find((c) => c !== undefined);
  // A short answer to "which city?" is the city itself.
  if (!city && turn.history.length > 0) {
    const answer = turn.text.trim().replace(/[.!?]+$/, '');
    if (answer && answer.split(/\s+/).length <= 3) city = answer.replace(/\b\p{L}/gu, (c) => c.toUpperCase());
  }
  if (!city) return { state: 'input-required', text: 'Which city would you like the weather for?' };
  const h = hash(city.toLowerCase());
  return { state: 'completed', text: `Weather in ${city}: ${(h % 30) + 2}°C and ${CONDITIONS[h % CONDITIONS.length]}.` };
}

const STATE: Record<A2AAgentState, TaskState> = {
  completed: TaskState.TASK_STATE_COMPLETED,
  'input-required': TaskState.TASK_STATE_INPUT_REQUIRED,
  failed: TaskState.TASK_STATE_FAILED,
  rejected: TaskState.TASK_STATE_REJECTED,
};

function textPart(value: string): Part {
  return { content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function textOf(message: Message | undefined): string {
  return (message?.parts ?? []).map((p) => (p.content?.$case === 'text' ? p.content.value : '')).join('');
}

function agentMessage(text: string, taskId: string, contextId: string): Message {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_AGENT,
    parts: [textPart(text)],
    taskId,
    contextId,
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

class ScriptedExecutor implements AgentExecutor {
  readonly turns: A2AAgentTurn[] = [];
  readonly #respond: NonNullable<A2AAgentOptions['respond']>;

  constructor(respond: NonNullable<A2AAgentOptions['respond']>) {
    this.#respond = respond;
  }

  cancelTask = async (taskId: string, eventBus: ExecutionEventBus): Promise<void> => {
    eventBus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: { state: TaskState.TASK_STATE_CANCELED, message: undefined, timestamp: new Date().toISOString() },
        metadata: undefined,
      }),
    );
  };

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const user = ctx.userMessage;
    const history = (ctx.task?.history ?? [])
      .filter((m) => m.role === Role.ROLE_USER && m.messageId !== user.messageId)
      .map(textOf);
    const turn: A2AAgentTurn = { text: textOf(user), contextId, taskId, history };
    this.turns.push(turn);
    const now = () => new Date().toISOString();

    // A stream must open with the Task, also when it continues one (after input-required).
    bus.publish(
      AgentEvent.task(
        ctx.task ?? {
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: now() },
          artifacts: [],
          history: [user],
          metadata: undefined,
        },
      ),
    );
    const status = (state: TaskState, text?: string) =>
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: { state, message: text === undefined ? undefined : agentMessage(text, taskId, contextId), timestamp: now() },
        metadata: undefined,
      });

    let reply: A2AAgentReply;
    try {
      reply = await this.#respond(turn);
    } catch (err) {
      reply = { state: 'failed', text: `agent error: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (reply.state !== 'completed') {
      bus.publish(status(STATE[reply.state], reply.text));
      return;
    }
    bus.publish(status(TaskState.TASK_STATE_WORKING));
    // The answer goes out as an artifact in two appended chunks, as a streaming agent would produce it.
    const artifactId = randomUUID();
    const cut = Math.ceil(reply.text.length / 2);
    [reply.text.slice(0, cut), reply.text.slice(cut)].forEach((chunk, i) => {
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: { artifactId, name: 'answer', description: '', parts: [textPart(chunk)], metadata: undefined, extensions: [] },
          append: i > 0,
          lastChunk: i === 1,
          metadata: undefined,
        }),
      );
    });
    bus.publish(status(TaskState.TASK_STATE_COMPLETED));
  }
}

function skill(s: A2AAgentSkillInput): AgentSkill {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    tags: s.tags ?? [],
    examples: s.examples ?? [],
    inputModes: ['text/plain'],
    outputModes: ['text/plain'],
    securityRequirements: [],
  };
}

const WEATHER_SKILL: A2AAgentSkillInput = {
  id: 'weather-forecast',
  name: 'Weather forecast',
  description: 'Current weather conditions and temperature for a city.',
  tags: ['weather', 'forecast', 'temperature'],
  examples: ['What is the weather in Paris?', 'Is it going to rain in London today?', 'How warm is it in Tokyo?'],
};

export async function startA2AAgent(opts: A2AAgentOptions = {}): Promise<A2AAgent> {
  const app = express();
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  const url = (opts.publicUrl ?? `http://${host}:${port}`).replace(/\/+$/, '');
  const iface = (path: string, binding: string) => ({ url: `${url}${path}`, protocolBinding: binding, tenant: '', protocolVersion: '1.0' });

  const card: AgentCard = {
    name: opts.name ?? 'Weather Agent',
    description: opts.description ?? 'Answers questions about the current weather in a city; asks for the city when it is missing.',
    supportedInterfaces: [iface('/a2a/jsonrpc', 'JSONRPC'), iface('/a2a/rest', 'HTTP+JSON')],
    provider: { organization: 'MoMA testkit', url: 'https://github.com/moma' },
    version: '1.0.0',
    capabilities: { streaming: opts.streaming ?? true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: (opts.skills ?? [WEATHER_SKILL]).map(skill),
    signatures: [],
  };
  const executor = new ScriptedExecutor(opts.respond ?? weatherAgentReply);
  const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
  // v1.0 cards locate endpoints in supportedInterfaces; the top-level `url` keeps v0.3-style readers working.
  const served = { ...card, url } as AgentCard;
  app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: async () => served, cache: { maxAge: 0 } }));
  app.use('/a2a/jsonrpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  app.use('/a2a/rest', restHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));

  return {
    url,
    card: served,
    turns: executor.turns,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
