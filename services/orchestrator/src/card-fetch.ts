// Fetches an A2A Agent Card from an agent's base URL (the A2A well-known path), guarded against server-side request
// forgery: every address a host name resolves to is checked before a connection is made (loopback, private,
// link-local, metadata, carrier-grade NAT, unique-local, multicast and unspecified ranges are denied unless the
// allow-list names them), the connection goes to the address that was checked (no second lookup to rebind), redirects
// are followed by hand (at most 3, each target checked again), and the answer is capped in time and size. Errors say
// only "card could not be fetched" and a reason class, so a caller cannot map which internal ports answer.
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { checkCardText, MAX_CARD_BYTES } from '@moma/core';
import { Code, MomaError } from '@moma/platform';

export const WELL_KNOWN_CARD_PATH = '/.well-known/agent-card.json';
export const MAX_CARD_REDIRECTS = 3;

/** `https://a.example/x` → `https://a.example/x/.well-known/agent-card.json`; a URL already naming a card is kept. */
export function cardUrlFor(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw MomaError.invalidArgument(`card_url "${base}" is not an absolute URL`, { field: 'card_url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw MomaError.invalidArgument(`card_url must be http(s) (got ${url.protocol})`, { field: 'card_url' });
  }
  if (url.username || url.password) throw MomaError.invalidArgument('card_url must not carry credentials', { field: 'card_url' });
  if (url.pathname.endsWith('.json')) return url.toString();
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${WELL_KNOWN_CARD_PATH}`;
  return url.toString();
}

/** Host name → its addresses (tests inject one; the default is the system resolver). */
export type Resolver = (host: string) => Promise<string[]>;
const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Ranges no card is fetched from unless allowed (IANA special-purpose registries, IPv4 and IPv6). */
const DENIED: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], // "this network", unspecified
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, broadcast
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['::ffff:0:0', 96, 'ipv6'], // IPv4-mapped: checked again as IPv4 below, denied here unless allowed that way
  ['64:ff9b::', 96, 'ipv6'], // NAT64
  ['fc00::', 7, 'ipv6'], // unique-local, incl. fd00:ec2::254 (metadata)
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

export interface CardFetchPolicy {
  timeoutMs: number;
  /** CIDRs (or single addresses) cards may be fetched from although they are in a denied range. */
  allow?: readonly string[];
  resolve?: Resolver;
  maxBytes?: number;
}

function blockList(entries: readonly string[], field: string): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const [addr = '', bits] = raw.trim().split('/');
    const family = isIP(addr);
    if (family === 0) throw new Error(`${field}: "${raw}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 4 ? 32 : 128)) throw new Error(`${field}: "${raw}" has a bad prefix length`);
      list.addSubnet(addr, n, type);
    }
  }
  return list;
}

/** Parses MOMA_CARD_FETCH_ALLOW ("127.0.0.1/32,10.0.0.0/8"); throws on a malformed entry. */
export function parseAllowList(value: string): string[] {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  blockList(entries, 'MOMA_CARD_FETCH_ALLOW');
  return entries;
}

const denied = (() => {
  const list = new BlockList();
  for (const [addr, bits, type] of DENIED) list.addSubnet(addr, bits, type);
  return list;
})();

/** `[::1]` (a URL's IPv6 host) → `::1`. */
const unbracketed = (host: string): string => host.replace(/^\[|\]$/g, '');

/** The Refused behind an error: the lookup's refusal reaches us wrapped in the connection's error. */
function refusalIn(err: unknown): Refused | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (e instanceof Refused) return e;
  return undefined;
}

class Refused extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

export class CardFetcher {
  readonly #timeoutMs: number;
  readonly #allow: BlockList;
  readonly #resolve: Resolver;
  readonly #maxBytes: number;
  readonly #dispatcher: Agent;

  constructor(policy: CardFetchPolicy) {
    this.#timeoutMs = policy.timeoutMs;
    this.#allow = blockList(policy.allow ?? [], 'allow');
    this.#resolve = policy.resolve ?? systemResolver;
    this.#maxBytes = policy.maxBytes ?? MAX_CARD_BYTES;
    // Every connection's address comes from this lookup, which checks it: what is checked is what is dialled.
    const lookup: LookupFunction = (host, options, cb) => {
      this.#addressFor(host).then(
        (address) => {
          const family = isIP(address);
          if (options.all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address, family }]);
          else cb(null, address, family);
        },
        (err: Error) => cb(err as NodeJS.ErrnoException, '', 0),
      );
    };
    this.#dispatcher = new Agent({ connect: { lookup, timeout: policy.timeoutMs } });
  }

  #allowed(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.#allow.check(address, type)) return true;
    if (type === 'ipv6') {
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
      if (mapped) return this.#allowed(mapped);
    }
    return !denied.check(address, type);
  }

  /** The first address of `host` when every address it resolves to is allowed (a name must not mix in a denied one). */
  async #addressFor(host: string): Promise<string> {
    const name = unbracketed(host);
    let addresses: string[];
    if (isIP(name)) addresses = [name];
    else {
      try {
        addresses = await this.#resolve(name);
      } catch {
        throw new Refused('the host name does not resolve');
      }
    }
    if (addresses.length === 0) throw new Refused('the host name does not resolve');
    if (!addresses.every((a) => this.#allowed(a))) throw new Refused('its address is not allowed (see MOMA_CARD_FETCH_ALLOW)');
    return addresses[0]!;
  }

  /** Returns the card's JSON and raw text; fails with INVALID_ARGUMENT "card could not be fetched: <reason>". */
  async fetch(base: string): Promise<{ url: string; json: unknown; text: string }> {
    let url = cardUrlFor(base);
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      for (let hop = 0; ; hop++) {
        // A name is checked by the dispatcher's lookup as it connects; an IP literal skips the lookup, so here.
        const host = new URL(url).hostname;
        if (isIP(unbracketed(host))) await this.#addressFor(host);
        const res = await request(url, { dispatcher: this.#dispatcher, signal, headers: { accept: 'application/json' } });
        if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
          await res.body.dump();
          if (hop >= MAX_CARD_REDIRECTS) throw new Refused(`more than ${MAX_CARD_REDIRECTS} redirects`);
          const next = new URL(String(res.headers.location), url);
          if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new Refused('a redirect left http(s)');
          url = next.toString();
          continue;
        }
        if (res.statusCode !== 200) {
          await res.body.dump();
          throw new Refused('the server did not answer with a card');
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > this.#maxBytes) {
          res.body.destroy();
          throw new Refused(`larger than ${this.#maxBytes} bytes`);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > this.#maxBytes) {
            res.body.destroy();
            throw new Refused(`larger than ${this.#maxBytes} bytes`);
          }
          chunks.push(chunk as Buffer);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          checkCardText(text, 'card_url');
        } catch (err) {
          throw new Refused((err as Error).message.replace(/^card_url: /, ''));
        }
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new Refused('the answer is not JSON');
        }
        return { url, json, text };
      }
    } catch (err) {
      const refused = refusalIn(err);
      const reason = refused
        ? refused.reason
        : signal.aborted || (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
          ? `no answer within ${this.#timeoutMs} ms`
          : 'the connection failed';
      throw new MomaError(Code.INVALID_ARGUMENT, `card could not be fetched: ${reason}`, { details: { field: 'card_url' } });
    }
  }

  close(): Promise<void> {
    return this.#dispatcher.close();
  }
}
