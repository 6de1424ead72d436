// The card_url SSRF guard against a real HTTP server on 127.0.0.1. Host names are resolved by an injected resolver,
// so names can point at private, link-local or metadata addresses without any connection leaving 127.0.0.0/8: the
// deny rules run before a connection is made, and the server counts every request it got.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '@moma/platform';
import { CardFetcher, parseAllowList, type Resolver } from './card-fetch.ts';

const CARD = { name: 'Weather', url: 'http://127.0.0.1:9/a2a', skills: [{ id: 'w', name: 'Weather', examples: ['rain?'] }] };

let server: Server;
let port = 0;
let hits = 0;
const NAMES: Record<string, string[]> = {
  'agent.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
  'private.test': ['10.1.2.3'],
  'home.test': ['192.168.1.10'],
  'v6-local.test': ['fe80::1'],
  'v6-ula.test': ['fd00:ec2::254'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'mixed.test': ['127.0.0.1', '10.0.0.1'],
};
const resolve: Resolver = async (host) => {
  const a = NAMES[host];
  if (!a) throw new Error(`ENOTFOUND ${host}`);
  return a;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    const path = req.url ?? '/';
    if (path.startsWith('/ok')) return void res.end(JSON.stringify(CARD));
    if (path.startsWith('/to-meta')) return void res.writeHead(302, { location: 'http://meta.test/latest/.well-known/agent-card.json' }).end();
    if (path.startsWith('/to-private-literal')) return void res.writeHead(307, { location: 'http://10.9.9.9/card.json' }).end();
    if (path.startsWith('/to-ok')) return void res.writeHead(301, { location: '/ok/card.json' }).end();
    if (path.startsWith('/loop')) return void res.writeHead(302, { location: '/loop/card.json' }).end();
    if (path.startsWith('/to-file')) return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path.startsWith('/big-declared')) return void res.end(JSON.stringify({ ...CARD, description: 'x'.repeat(300_000) }));
    if (path.startsWith('/big-chunked')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 40; i++) res.write('x'.repeat(10_000));
      return void res.end();
    }
    if (path.startsWith('/deep')) return void res.end('['.repeat(5000) + ']'.repeat(5000));
    if (path.startsWith('/missing')) return void res.writeHead(404).end('nope');
    if (path.startsWith('/hang')) return; // never answers
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const denied = 'card could not be fetched: its address is not allowed (see MOMA_CARD_FETCH_ALLOW)';

async function refusal(fetcher: CardFetcher, url: string): Promise<{ code: number; message: string }> {
  try {
    await fetcher.fetch(url);
  } catch (err) {
    return err as { code: number; message: string };
  }
  throw new Error(`${url} was fetched`);
}

describe('card_url guard, default policy (nothing allowed)', () => {
  const fetcher = new CardFetcher({ timeoutMs: 2000, resolve });
  afterAll(() => fetcher.close());

  it('card fetch - denies loopback, private, link-local and metadata addresses, by literal and by name, before connecting', async () => {
    const before = hits;
    const urls = [
      `http://127.0.0.1:${port}/ok`,
      `http://[::1]:${port}/ok`,
      `http://0.0.0.0:${port}/ok`,
      'http://169.254.169.254/latest/meta-data',
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://100.64.0.1/',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/',
      `http://agent.test:${port}/ok`,
      'http://meta.test/',
      'http://private.test/',
      'http://home.test/',
      'http://v6-local.test/',
      'http://v6-ula.test/',
      `http://mapped.test:${port}/ok`,
    ];
    for (const url of urls) {
      const e = await refusal(fetcher, url);
      expect(e.code, url).toBe(Code.INVALID_ARGUMENT);
      expect(e.message, url).toBe(denied);
    }
    expect(hits).toBe(before);
  });

  it('card fetch - an unknown name and a non-http scheme are refused', async () => {
    expect((await refusal(fetcher, 'http://nowhere.test/')).message).toBe('card could not be fetched: the host name does not resolve');
    await expect(fetcher.fetch('javascript:alert(1)')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('http(s)') });
    await expect(fetcher.fetch('http://user:pw@agent.test/')).rejects.toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('credentials') });
  });
});

describe('card_url guard, loopback allowed (a private deployment or a test)', () => {
  const fetcher = new CardFetcher({ timeoutMs: 400, resolve, allow: ['127.0.0.1/32'] });
  afterAll(() => fetcher.close());

  it('card fetch - fetches an allowed address by literal and by name, and follows a redirect that stays allowed', async () => {
    expect((await fetcher.fetch(`http://127.0.0.1:${port}/ok`)).json).toMatchObject({ name: 'Weather' });
    const byName = await fetcher.fetch(`http://agent.test:${port}/ok`);
    expect(byName.json).toMatchObject({ name: 'Weather' });
    const redirected = await fetcher.fetch(`http://agent.test:${port}/to-ok`);
    expect(redirected.url).toBe(`http://agent.test:${port}/ok/card.json`);
  });

  it('card fetch - checks every redirect target again, and every address a name resolves to', async () => {
    const before = hits;
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/to-meta`)).message).toBe(denied);
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/to-private-literal`)).message).toBe(denied);
    expect(hits).toBe(before + 2); // the two redirecting answers; nothing at the denied targets
    expect((await refusal(fetcher, `http://mixed.test:${port}/ok`)).message).toBe(denied);
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/to-file`)).message).toBe('card could not be fetched: a redirect left http(s)');
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/loop`)).message).toBe('card could not be fetched: more than 3 redirects');
  });

  it('card fetch - caps size, depth and time, and says only the reason class', async () => {
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/big-declared`)).message).toMatch(/^card could not be fetched: larger than 262144 bytes$/);
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/big-chunked`)).message).toMatch(/^card could not be fetched: larger than 262144 bytes$/);
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/deep`)).message).toBe('card could not be fetched: card is nested deeper than 32 levels');
    const t0 = Date.now();
    expect((await refusal(fetcher, `http://127.0.0.1:${port}/hang`)).message).toBe('card could not be fetched: no answer within 400 ms');
    expect(Date.now() - t0).toBeLessThan(5000);
    // A closed port and a 404 read the same apart from the class, and neither names the address or port.
    const closed = await refusal(fetcher, 'http://127.0.0.1:1/');
    const missing = await refusal(fetcher, `http://127.0.0.1:${port}/missing`);
    expect(closed.message).toBe('card could not be fetched: the connection failed');
    expect(missing.message).toBe('card could not be fetched: the server did not answer with a card');
    for (const e of [closed, missing]) expect(e.message).not.toContain(String(port));
  });
});

describe('MOMA_CARD_FETCH_ALLOW', () => {
  it('card fetch - parses addresses and CIDRs and refuses anything else', () => {
    expect(parseAllowList(' 127.0.0.1/32, 10.0.0.0/8 ,fd00::/8,192.168.1.5')).toEqual(['127.0.0.1/32', '10.0.0.0/8', 'fd00::/8', '192.168.1.5']);
    expect(parseAllowList('')).toEqual([]);
    expect(() => parseAllowList('localhost')).toThrow(/not an IP address/);
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/prefix length/);
  });
});
