// The agent registry: A2A agents stored under `agent:<id>` (the Store adds its `moma:` prefix) as proto-JSON
// `Agent`. The orchestrator is the only service that reads or writes these keys; every change is announced as
// RegistryChanged (with the agent), so each orchestrator and intent instance updates its copy without a read.
import { agentIdFromName, checkCardText, parseAgentCard, tenantMayUse, type AgentAvailability, type AgentCardData } from '@moma/core';
import { Code, MomaError, publishEvent, type Bus, type Logger, type Store } from '@moma/platform';
import {
  Agent,
  RegistryOp,
  Topics,
  type AgentCard,
  type ListAgentsResponse,
  type RegistryChanged,
  type RegisterAgentRequest,
  type RemoveAgentRequest,
  type UpdateAgentRequest,
} from '@moma/proto';
import { casUpdate } from './cas.ts';
import type { CardFetcher } from './card-fetch.ts';

export const AGENT_KEY_PREFIX = 'agent:';
export const REGISTRY_VERSION_KEY = 'registry:version';
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 500;
/** Half of NATS's default 1 MiB message limit: a page and its envelope always fit. */
const MAX_PAGE_BYTES = 512 * 1024;

// The token is the last id of the page, opaque to callers (base64url), so its form can change.
const encodePageToken = (lastId: string): string => Buffer.from(lastId, 'utf8').toString('base64url');
function decodePageToken(token: string): string {
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!ID_PATTERN.test(id)) throw MomaError.invalidArgument('page_token is not one this registry gave out', { field: 'page_token' });
  return id;
}

export interface RegistryOptions {
  store: Store;
  bus: Bus;
  logger: Logger;
  /** Fetches `card_url`s under the SSRF policy. */
  cards: CardFetcher;
}

function parseCardJson(text: string): AgentCardData {
  let json: unknown;
  try {
    checkCardText(text);
    json = JSON.parse(text);
  } catch (err) {
    throw MomaError.invalidArgument(`card_json is not valid JSON: ${(err as Error).message}`, { field: 'card_json' });
  }
  return parseCard(json);
}

function parseCard(json: unknown): AgentCardData {
  try {
    return parseAgentCard(json);
  } catch (err) {
    throw MomaError.from(err); // InvalidInputError → INVALID_ARGUMENT naming the field
  }
}

const toProtoCard = (c: AgentCardData): AgentCard => ({
  name: c.name,
  description: c.description,
  url: c.url,
  version: c.version,
  skills: c.skills.map((s) => ({ ...s, tags: [...s.tags], examples: [...s.examples] })),
});

/**
 * A tenant's own agent is one registered for that tenant alone. A tenant's key (`owner` on a request) may replace,
 * change or remove only those; shared agents and other tenants' agents belong to the admin and to them.
 */
const ownedBy = (agent: Agent, owner: string): boolean => agent.tenants.length === 1 && agent.tenants[0] === owner;

const cleanTenants = (ts: readonly string[]): string[] => [...new Set(ts.map((t) => t.trim()).filter(Boolean))];

/**
 * Writes go to the Store and are announced; reads for the hot path (decide) come from an in-memory copy that
 * every instance refreshes on each announcement, so a turn never reads the registry from Redis.
 */
export class AgentRegistry {
  readonly #o: RegistryOptions;
  #agents = new Map<string, Agent>();
  #availability = new Map<string, AgentAvailability>();
  #loadedVersion = -1;

  constructor(options: RegistryOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#agents.size;
  }

  get(id: string): Agent | undefined {
    return this.#agents.get(id);
  }

  /** healthy + tenants per agent, for masking (rebuilt on change, shared by every turn). */
  availability(): ReadonlyMap<string, AgentAvailability> {
    return this.#availability;
  }

  /** Loads every agent from the Store (at start, and when a resync finds the registry moved). */
  async load(): Promise<void> {
    const version = await this.version();
    const rows = await this.#o.store.list<unknown>(AGENT_KEY_PREFIX);
    const next = new Map<string, Agent>();
    for (const { key, value } of rows) {
      const agent = Agent.fromJSON(value);
      if (!agent.id || !agent.card) {
        this.#o.logger.warn({ key }, 'skipping malformed registry entry');
        continue;
      }
      next.set(agent.id, agent);
    }
    this.#agents = next;
    this.#reindex();
    this.#loadedVersion = version;
  }

  async version(): Promise<number> {
    return (await this.#o.store.get<number>(REGISTRY_VERSION_KEY))?.value ?? 0;
  }

  /** Reloads when the registry version differs from the one last loaded (a missed announcement); true if it did. */
  async resync(): Promise<boolean> {
    if ((await this.version()) === this.#loadedVersion) return false;
    await this.load();
    return true;
  }

  /** Applies an announcement from any instance (it carries the agent as stored). */
  applyChange(evt: RegistryChanged): void {
    if (evt.op === RegistryOp.REGISTRY_OP_UPSERT && evt.agent) this.#agents.set(evt.agentId, evt.agent);
    else if (evt.op === RegistryOp.REGISTRY_OP_REMOVE) this.#agents.delete(evt.agentId);
    else return;
    this.#reindex();
    this.#advance(evt.version);
  }

  // Only consecutive versions advance: a gap means an announcement was missed, and the next resync reloads.
  #advance(version: number): void {
    if (version === this.#loadedVersion + 1) this.#loadedVersion = version;
  }

  async register(req: RegisterAgentRequest): Promise<Agent> {
    let card: AgentCardData;
    let cardJson: string;
    if (req.cardUrl) {
      const fetched = await this.#o.cards.fetch(req.cardUrl);
      card = parseCard(fetched.json);
      cardJson = fetched.text;
    } else if (req.cardJson) {
      card = parseCardJson(req.cardJson);
      cardJson = req.cardJson;
    } else {
      throw MomaError.invalidArgument('register needs card_url or card_json', { field: 'source' });
    }
    const id = req.id ? req.id.trim() : agentIdFromName(card.name);
    if (!ID_PATTERN.test(id)) {
      throw MomaError.invalidArgument(`agent id "${id}" must be 1-64 letters, digits, '.', '_' or '-'`, { field: 'id' });
    }
    if (req.owner) {
      const existing = await this.#o.store.get<unknown>(AGENT_KEY_PREFIX + id);
      if (existing && !ownedBy(Agent.fromJSON(existing.value), req.owner)) {
        throw new MomaError(Code.ALREADY_EXISTS, `agent id "${id}" is taken; choose another id`);
      }
    }
    const agent: Agent = {
      id,
      card: toProtoCard(card),
      cardJson,
      tenants: cleanTenants(req.tenants),
      healthy: true,
      updatedAtMs: Date.now(),
      category: req.category.trim(),
    };
    await this.#o.store.put(AGENT_KEY_PREFIX + id, Agent.toJSON(agent));
    await this.#announce(RegistryOp.REGISTRY_OP_UPSERT, agent);
    return agent;
  }

  async update(req: UpdateAgentRequest): Promise<Agent> {
    if (!req.id) throw MomaError.invalidArgument('update needs the agent id', { field: 'id' });
    const card = req.cardJson ? parseCardJson(req.cardJson) : undefined;
    const { value } = await casUpdate<unknown, null>(this.#o.store, AGENT_KEY_PREFIX + req.id, (current) => {
      const agent = current === undefined ? undefined : Agent.fromJSON(current);
      if (!agent || (req.owner && !ownedBy(agent, req.owner))) throw MomaError.notFound(`unknown agent ${req.id}`);
      if (card) {
        agent.card = toProtoCard(card);
        agent.cardJson = req.cardJson;
      }
      if (req.setTenants) agent.tenants = cleanTenants(req.tenants);
      if (req.healthy !== undefined) agent.healthy = req.healthy;
      agent.updatedAtMs = Date.now();
      return { value: Agent.toJSON(agent), result: null };
    });
    const agent = Agent.fromJSON(value);
    await this.#announce(RegistryOp.REGISTRY_OP_UPSERT, agent);
    return agent;
  }

  async remove(req: RemoveAgentRequest): Promise<boolean> {
    if (!req.id) throw MomaError.invalidArgument('remove needs the agent id', { field: 'id' });
    if (req.owner) {
      const existing = await this.#o.store.get<unknown>(AGENT_KEY_PREFIX + req.id);
      if (!existing || !ownedBy(Agent.fromJSON(existing.value), req.owner)) throw MomaError.notFound(`unknown agent ${req.id}`);
    }
    const removed = await this.#o.store.delete(AGENT_KEY_PREFIX + req.id);
    if (removed) await this.#announce(RegistryOp.REGISTRY_OP_REMOVE, undefined, req.id);
    return removed;
  }

  /**
   * Reads the Store (not the cache), so a listing right after a change on another instance is current. The version
   * is read first: a change that lands during the listing is in it and is announced again with a later version.
   */
  async list(tenant: string, knownVersion = 0, page: { size?: number; token?: string } = {}): Promise<ListAgentsResponse> {
    const version = await this.version();
    const first = !page.token;
    if (first && (knownVersion < 0 || (knownVersion > 0 && knownVersion === version))) return { agents: [], version, listed: false, nextPageToken: '' };
    const size = Math.min(MAX_PAGE_SIZE, page.size && page.size > 0 ? page.size : DEFAULT_PAGE_SIZE);
    const after = page.token ? decodePageToken(page.token) : '';
    const rows = await this.#o.store.list<unknown>(AGENT_KEY_PREFIX);
    const agents = rows.map((r) => Agent.fromJSON(r.value)).filter((a) => a.id && a.card && a.id > after);
    const visible = (tenant ? agents.filter((a) => tenantMayUse(a.tenants, tenant)) : agents).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const out: Agent[] = [];
    let bytes = 0;
    for (const a of visible) {
      if (out.length >= size) break;
      const n = Agent.encode(a).finish().length;
      if (out.length > 0 && bytes + n > MAX_PAGE_BYTES) break; // one agent always fits: cards are capped well below
      out.push(a);
      bytes += n;
    }
    const more = out.length < visible.length;
    return { agents: out, version, listed: true, nextPageToken: more ? encodePageToken(out.at(-1)!.id) : '' };
  }

  async #announce(op: RegistryOp, agent: Agent | undefined, removedId?: string): Promise<void> {
    const agentId = agent?.id ?? removedId ?? '';
    if (agent) this.#agents.set(agent.id, agent);
    else this.#agents.delete(agentId);
    this.#reindex();
    const version = (await this.#o.store.update<number>(REGISTRY_VERSION_KEY, (n) => (n ?? 0) + 1)).value;
    this.#advance(version);
    await publishEvent(this.#o.bus, Topics.registry, { op, agentId, version, agent });
    this.#o.logger.info({ op, agentId, version }, 'agent registry changed');
  }

  #reindex(): void {
    const next = new Map<string, AgentAvailability>();
    for (const a of this.#agents.values()) next.set(a.id, { healthy: a.healthy, tenants: a.tenants });
    this.#availability = next;
  }
}
