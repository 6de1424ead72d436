// The executor's fetch for the OpenAI clients: the same Response semantics as global fetch for what the clients use
// (JSON answers, SSE streams that arrive piece by piece, bodiless statuses, request headers in any shape).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamFetch } from './upstream-fetch.ts';

let server: Server;
let base = '';
let releaseStream: () => void = () => undefined;
const f = upstreamFetch();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (req.url === '/json') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-seen-auth': req.headers.authorization ?? '' });
        res.end(JSON.stringify({ echo: body, method: req.method }));
      } else if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        // The second event only goes out once the test has read the first: proof the body is not buffered whole.
        releaseStream = () => res.end('data: second\n\n');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await f.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('executor upstream fetch', () => {
  it('upstream fetch - posts a JSON body with Headers and returns status, headers and body', async () => {
    const res = await f(`${base}/json`, { method: 'POST', headers: new Headers({ authorization: 'Bearer k' }), body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-seen-auth')).toBe('Bearer k');
    expect(await res.json()).toEqual({ echo: '{"a":1}', method: 'POST' });
  });

  it('upstream fetch - a bodiless status gives a Response with no body', async () => {
    const res = await f(`${base}/empty`, { method: 'GET' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
  });

  it('upstream fetch - an event stream is handed over as it arrives', async () => {
    const res = await f(`${base}/sse`, { method: 'GET', headers: [['accept', 'text/event-stream']] });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: first\n\n');
    releaseStream();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: second\n\n');
  });

  it('upstream fetch - a refused connection rejects with the socket error code (the OpenAI client reports it as a connection error)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    await expect(f(`http://127.0.0.1:${port}/json`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
