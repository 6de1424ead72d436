import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingsEncoder } from './embeddings.ts';
import { MomaError } from './errors.ts';

// A local OpenAI-compatible /v1/embeddings stand-in: the vector of a text is [length, vowels, 1].
let server: Server;
let base = '';
const calls: string[][] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url !== '/v1/embeddings' || req.headers.authorization !== 'Bearer k') {
        res.writeHead(401).end('no');
        return;
      }
      const { input } = JSON.parse(body) as { input: string[] };
      calls.push(input);
      const data = input.map((t, index) => ({ index, embedding: [t.length, (t.match(/[aeiou]/g) ?? []).length, 1] })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('embeddings encoder - OpenAI-compatible /v1/embeddings', () => {
  it('encodeBatch - returns normalised vectors in input order and learns the dimension', async () => {
    const enc = new EmbeddingsEncoder({ baseUrl: base, model: 'm', apiKey: 'k' });
    const [a, b] = await enc.encodeBatch(['hello', 'sky']);
    expect(enc.dim).toBe(3);
    const n = Math.hypot(5, 2, 1);
    expect(Array.from(a!)).toEqual([5 / n, 2 / n, 1 / n].map((x) => Math.fround(x)));
    expect(b![1]).toBe(0);
  });

  it('cache - repeated texts skip the network and batches are split', async () => {
    calls.length = 0;
    const enc = new EmbeddingsEncoder({ baseUrl: base, model: 'm', apiKey: 'k', batchSize: 2 });
    await enc.encodeBatch(['a', 'b', 'c', 'a']);
    await enc.encodeBatch(['b', 'c']);
    expect(calls).toEqual([['a', 'b'], ['c']]);
  });

  it('errors - HTTP failures and bad options become MomaError with a clear message', async () => {
    const enc = new EmbeddingsEncoder({ baseUrl: base, model: 'm', apiKey: 'wrong' });
    await expect(enc.encodeBatch(['x'])).rejects.toThrow(/HTTP 401/);
    await expect(enc.encodeBatch(['x'])).rejects.toBeInstanceOf(MomaError);
    expect(() => new EmbeddingsEncoder({ baseUrl: 'embeddings:8080', model: 'm' })).toThrow(/http\(s\) URL/);
    const down = new EmbeddingsEncoder({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2000 });
    await expect(down.encodeBatch(['x'])).rejects.toThrow(/request to .* failed/);
  });

  it('dimension - a size mismatch with the configured dim is refused', async () => {
    const enc = new EmbeddingsEncoder({ baseUrl: base, model: 'm', apiKey: 'k', dim: 8 });
    await expect(enc.encodeBatch(['x'])).rejects.toThrow(/expected 8/);
  });
});
