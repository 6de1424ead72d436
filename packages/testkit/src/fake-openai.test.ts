import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { APIConnectionTimeoutError, APIUserAbortError, BadRequestError, RateLimitError } from 'openai';
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

describe('fake openai - behaviour (driven by the openai SDK)', () => {
  const client = () => new OpenAI({ baseURL: fake.url, apiKey: 'sk-fake', maxRetries: 0 });
  const ask = (content: string) => [{ role: 'user' as const, content }];
  const weather = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { q: { type: 'string' } } } } };
  const clock = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };

  it('fake openai - behaviour: records the body exactly as sent and the lowercased headers', async () => {
    const sent = { model: 'rec', messages: ask('hi'), temperature: 0.3, seed: 7, user: 'u-1', metadata: { a: 'b' }, logit_bias: { '42': -1 } };
    await new OpenAI({ baseURL: fake.url, apiKey: 'sk-fake', maxRetries: 0, defaultHeaders: { 'X-Trace-Me': 'yes' } }).chat.completions.create(sent);
    const got = fake.requests.at(-1)!;
    expect(got.body).toEqual(sent);
    expect(got).toMatchObject({ model: 'rec', stream: false, messages: [{ role: 'user', content: 'hi' }] });
    expect(got.headers['x-trace-me']).toBe('yes');
    expect(got.headers.authorization).toBe('Bearer sk-fake');
  });

  it('fake openai - behaviour: answers carry id, object, created, model, system_fingerprint and OpenAI headers', async () => {
    const { data, response } = await client().chat.completions.create({ model: 'meta', messages: ask('hello') }).withResponse();
    expect(data).toMatchObject({ object: 'chat.completion', model: 'meta', system_fingerprint: 'fp_fake' });
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.created).toBeGreaterThan(1_600_000_000);
    expect(data.choices[0]?.message.content).toBe('[meta] hello');
    expect(response.headers.get('x-request-id')).toMatch(/^req_\d+$/);
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('999');
    expect(data.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 2, total_tokens: expect.any(Number) });
  });

  it('fake openai - behaviour: tools get one tool call to the first tool, or the one tool_choice names', async () => {
    const r = await client().chat.completions.create({ model: 't', messages: ask('weather in Paris?'), tools: [weather, clock] });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_\d+$/), type: 'function', function: { name: 'get_weather', arguments: '{"q":"weather in Paris?"}' } }]);
    const named = await client().chat.completions.create({
      model: 't',
      messages: ask('time?'),
      tools: [weather, clock],
      tool_choice: { type: 'function', function: { name: 'get_time' } },
    });
    expect(named.choices[0]?.message.tool_calls?.[0]).toMatchObject({ function: { name: 'get_time' } });
    const none = await client().chat.completions.create({ model: 't', messages: ask('no tools'), tools: [weather], tool_choice: 'none' });
    expect(none.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: '[t] no tools' } });
  });

  it('fake openai - behaviour: streamed tool calls arrive as OpenAI deltas the SDK stream helper accumulates', async () => {
    const stream = client().chat.completions.stream({ model: 't', messages: ask('weather in Lisbon today?'), tools: [weather] });
    const argDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({ type: 'function', id: expect.stringMatching(/^call_/), function: { name: 'get_weather', arguments: '{"q":"weather in Lisbon today?"}' } });
    expect(argDeltas.length).toBeGreaterThan(1);
    expect(argDeltas.join('')).toBe('{"q":"weather in Lisbon today?"}');

    // The raw deltas: the first names the call with empty arguments, the rest only append arguments.
    const raw = await client().chat.completions.create({ model: 't', messages: ask('weather in Lisbon today?'), tools: [weather], stream: true });
    const deltas = [];
    for await (const c of raw) deltas.push(...(c.choices[0]?.delta.tool_calls ?? []));
    expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } });
    for (const d of deltas.slice(1)) expect(Object.keys(d).sort()).toEqual(['function', 'index']);
  });

  it('fake openai - behaviour: a tool result as the last message gets a text answer that mentions it', async () => {
    const r = await client().chat.completions.create({
      model: 't',
      tools: [weather],
      messages: [
        ...ask('weather in Paris?'),
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"q":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18C and sunny' },
      ],
    });
    expect(r.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: '[t] tool said: 18C and sunny' } });
  });

  it('fake openai - behaviour: json_schema and json_object answers are JSON the SDK parses', async () => {
    const parsed = await client().chat.completions.parse({
      model: 'j',
      messages: ask('capital of France?'),
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'a', strict: true, schema: { type: 'object', properties: { answer: { type: 'string' }, confidence: { type: 'number' } }, required: ['answer', 'confidence'], additionalProperties: false } },
      },
    });
    expect(parsed.choices[0]?.message.parsed).toEqual({ answer: '[j] capital of France?', confidence: 0 });
    const obj = await client().chat.completions.create({ model: 'j', messages: ask('as json'), response_format: { type: 'json_object' } });
    expect(JSON.parse(obj.choices[0]!.message.content!)).toEqual({ answer: '[j] as json' });
  });

  it('fake openai - behaviour: n=2 returns two indexed choices, streamed or not', async () => {
    const r = await client().chat.completions.create({ model: 'n', messages: ask('two please'), n: 2 });
    expect(r.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, '[n] two please'],
      [1, '[n#1] two please'],
    ]);
    expect(r.usage?.completion_tokens).toBe(6);
    const final = await client().chat.completions.stream({ model: 'n', messages: ask('two please'), n: 2 }).finalChatCompletion();
    expect(final.choices.map((c) => c.message.content)).toEqual(['[n] two please', '[n#1] two please']);
  });

  it('fake openai - behaviour: stop cuts before the first stop sequence, as a string or an array', async () => {
    const one = await client().chat.completions.create({ model: 's', messages: ask('alpha beta gamma'), stop: ' beta' });
    expect(one.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: '[s] alpha' } });
    const many = await client().chat.completions.create({ model: 's', messages: ask('alpha beta gamma'), stop: ['gamma', 'alpha'] });
    expect(many.choices[0]?.message.content).toBe('[s] ');
    const streamed = await client().chat.completions.stream({ model: 's', messages: ask('alpha beta gamma'), stop: ['gamma'] }).finalChatCompletion();
    expect(streamed.choices[0]?.message.content).toBe('[s] alpha beta ');
  });

  it('fake openai - behaviour: max_completion_tokens and max_tokens cut the answer with finish_reason length', async () => {
    const r = await client().chat.completions.create({ model: 'l', messages: ask('one two three four'), max_completion_tokens: 3 });
    expect(r.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: '[l] one two ' } });
    expect(r.usage?.completion_tokens).toBe(3);
    const roomy = await client().chat.completions.create({ model: 'l', messages: ask('one two'), max_tokens: 50 });
    expect(roomy.choices[0]?.finish_reason).toBe('stop');
    const parts: string[] = [];
    for await (const c of await client().chat.completions.create({ model: 'l', messages: ask('one two three four'), max_tokens: 2, stream: true })) {
      parts.push(c.choices[0]?.delta.content ?? '');
      if (c.choices[0]?.finish_reason) expect(c.choices[0].finish_reason).toBe('length');
    }
    expect(parts.join('')).toBe('[l] one ');
  });

  it('fake openai - behaviour: logprobs per piece with top_logprobs, streamed per chunk', async () => {
    const r = await client().chat.completions.create({ model: 'p', messages: ask('say this'), logprobs: true, top_logprobs: 2 });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content.map((t) => t.token).join('')).toBe('[p] say this');
    for (const t of content) {
      expect(t).toMatchObject({ logprob: expect.any(Number), bytes: [...Buffer.from(t.token)] });
      expect(t.top_logprobs).toHaveLength(2);
    }
    const none = await client().chat.completions.create({ model: 'p', messages: ask('say this'), logprobs: true });
    expect(none.choices[0]?.logprobs?.content?.[0]?.top_logprobs).toEqual([]);
    const plain = await client().chat.completions.create({ model: 'p', messages: ask('say this') });
    expect(plain.choices[0]?.logprobs).toBeNull();

    const chunks = [];
    for await (const c of await client().chat.completions.create({ model: 'p', messages: ask('say this'), logprobs: true, top_logprobs: 1, stream: true })) chunks.push(c);
    const withText = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(withText.length).toBe(3);
    for (const c of withText) expect(c.choices[0]?.logprobs?.content?.[0]).toMatchObject({ token: c.choices[0]?.delta.content, top_logprobs: [expect.anything()] });
    const final = await client().chat.completions.stream({ model: 'p', messages: ask('say this'), logprobs: true }).finalChatCompletion();
    expect(final.choices[0]?.logprobs?.content).toHaveLength(3);
  });

  it('fake openai - behaviour: a user message of text and image parts is answered from the text parts', async () => {
    const messages = [
      {
        role: 'user' as const,
        content: [
          { type: 'text' as const, text: 'What is in' },
          { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' as const } },
          { type: 'text' as const, text: 'this picture?' },
        ],
      },
    ];
    const r = await client().chat.completions.create({ model: 'v', messages });
    expect(r.choices[0]?.message.content).toBe('[v] What is in this picture?');
    expect(r.usage?.prompt_tokens).toBeGreaterThanOrEqual(85);
    const got = fake.requests.at(-1)!;
    expect(got.body.messages).toEqual(messages);
    expect(got.messages[0]?.content).toBe('What is in this picture?');
  });

  it('fake openai - behaviour: streams end with a usage chunk only when stream_options.include_usage is true', async () => {
    const without = [];
    for await (const c of await client().chat.completions.create({ model: 'u', messages: ask('count me'), stream: true })) without.push(c);
    expect(without.some((c) => c.usage)).toBe(false);
    expect(without.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(without.every((c) => c.system_fingerprint === 'fp_fake' && c.model === 'u' && c.object === 'chat.completion.chunk')).toBe(true);

    const withUsage = [];
    for await (const c of await client().chat.completions.create({ model: 'u', messages: ask('count me'), stream: true, stream_options: { include_usage: true } })) withUsage.push(c);
    expect(withUsage.filter((c) => c.usage)).toHaveLength(1);
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 3 } });
  });

  it('fake openai - behaviour: setFailing with status 429, Retry-After and a custom body; calls() counts one upstream call', async () => {
    fake.setFailing(['limited'], { status: 429, retryAfterSeconds: 7 });
    try {
      const before = fake.calls('limited');
      const err = await client().chat.completions.create({ model: 'limited', messages: ask('x') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RateLimitError);
      const e = err as InstanceType<typeof RateLimitError>;
      expect(e.status).toBe(429);
      expect(e.headers?.get('retry-after')).toBe('7');
      expect(e.error).toMatchObject({ message: expect.stringContaining('limited'), type: expect.any(String), code: 'rate_limit_exceeded' });
      expect(fake.calls('limited')).toBe(before + 1);

      fake.setFailing(['limited'], { status: 503, body: { error: { message: 'overloaded', type: 'server_error', code: 'overloaded' } } });
      const custom = await client().chat.completions.create({ model: 'limited', messages: ask('x') }).catch((e2: unknown) => e2);
      expect(custom).toMatchObject({ status: 503, error: { message: 'overloaded', code: 'overloaded' } });
      expect((custom as InstanceType<typeof RateLimitError>).headers?.get('retry-after')).toBeNull();
    } finally {
      fake.setFailing([]);
    }
    const ok = await client().chat.completions.create({ model: 'limited', messages: ask('back') });
    expect(ok.choices[0]?.message.content).toBe('[limited] back');
  });

  it('fake openai - behaviour: setHanging accepts a request and never answers, so the client times out', async () => {
    fake.setHanging(['stuck']);
    try {
      const started = Date.now();
      const err = await client()
        .chat.completions.create({ model: 'stuck', messages: ask('hello?'), stream: true }, { timeout: 150 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(APIConnectionTimeoutError);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(fake.calls('stuck')).toBe(1);
      expect(fake.requests.at(-1)).toMatchObject({ model: 'stuck', stream: true });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const aborted = await client().chat.completions.create({ model: 'stuck', messages: ask('x') }, { signal: ac.signal }).catch((e: unknown) => e);
      expect(aborted).toBeInstanceOf(APIUserAbortError);
    } finally {
      fake.setHanging([]);
    }
    expect((await client().chat.completions.create({ model: 'stuck', messages: ask('free') })).choices[0]?.message.content).toBe('[stuck] free');
  });

  it('fake openai - behaviour: calls() counts requests per model and in total, even with record off', async () => {
    const quiet = await startFakeOpenAI({ record: false });
    try {
      const c = new OpenAI({ baseURL: quiet.url, apiKey: 'k', maxRetries: 0 });
      await c.chat.completions.create({ model: 'a', messages: ask('1') });
      await c.chat.completions.create({ model: 'a', messages: ask('2'), stream: true }).then(async (s) => {
        for await (const _ of s);
      });
      await c.chat.completions.create({ model: 'b', messages: ask('3') });
      expect([quiet.calls('a'), quiet.calls('b'), quiet.calls('c'), quiet.calls()]).toEqual([2, 1, 0, 3]);
      expect(quiet.requests).toHaveLength(0);
    } finally {
      await quiet.close();
    }
  });

  it('fake openai - behaviour: a body that is not JSON or lacks messages gets a 400 OpenAI error', async () => {
    const notJson = await fetch(`${fake.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null } });
    const err = await client()
      .chat.completions.create({ model: 'x' } as unknown as Parameters<OpenAI['chat']['completions']['create']>[0])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as InstanceType<typeof BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringContaining('messages') });
  });
});
