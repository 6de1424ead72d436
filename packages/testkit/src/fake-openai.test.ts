import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => b.slice(6));
}

describe('fake-openai', () => {
  it('fake-openai - non-stream completion echoes the last user message with the model and reports usage', async () => {
    const res = await post('/chat/completions', { model: 'fake-small', messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(body.choices[0]?.message.content).toBe('[fake-small] hello there');
    expect(body.usage.completion_tokens).toBe(3);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(fake.requests.at(-1)).toMatchObject({ model: 'fake-small', stream: false });
  });

  it('fake-openai - stream sends SSE chunks that concatenate to the answer, a usage chunk, then [DONE]', async () => {
    const res = await post('/chat/completions', {
      model: 'fake-large',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: Array<{ delta: { content?: string } }>; usage?: { completion_tokens: number } });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('[fake-large] stream me please');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(4);
  });

  it('fake-openai - failing models get the configured status with an OpenAI error body', async () => {
    fake.setFailing(['fake-small']);
    const res = await post('/chat/completions', { model: 'fake-small', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('fake-small');
    const ok = await post('/chat/completions', { model: 'fake-large', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.status).toBe(200);
    fake.setFailing([]);
  });

  it('fake-openai - max_tokens truncates the answer with finish_reason length', async () => {
    const res = await post('/chat/completions', { model: 'm', max_tokens: 2, messages: [{ role: 'user', content: 'one two three four' }] });
    const body = (await res.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
    expect(body.choices[0]?.finish_reason).toBe('length');
    expect(body.choices[0]?.message.content).toBe('[m] one ');
  });

  it('fake-openai - embeddings are deterministic, unit length, and closer for similar text', async () => {
    const res = await post('/embeddings', { model: 'e', input: ['weather in paris', 'weather in paris today', 'stock prices'], dimensions: 32 });
    const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
    const [a, b, c] = body.data.map((d) => d.embedding) as [number[], number[], number[]];
    expect(a).toHaveLength(32);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0);
    expect(dot(a, a)).toBeCloseTo(1, 6);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    const again = (await (await post('/embeddings', { input: 'weather in paris', dimensions: 32 })).json()) as { data: Array<{ embedding: number[] }> };
    expect(again.data[0]?.embedding).toEqual(a);
  });

  it('fake-openai - lists models and rejects malformed requests with 400', async () => {
    const models = (await (await fetch(`${fake.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('fake-small');
    const bad = await fetch(`${fake.url}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    const missing = await post('/chat/completions', { model: 'x' });
    expect(missing.status).toBe(400);
  });
});
