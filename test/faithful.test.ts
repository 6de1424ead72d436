// A faithful gateway (issue 8): the HTTP door forwards the client's whole Chat Completions request to the provider
// (every field, content part, role, tool call and tool result; MoMA's own routing fields removed, only `model`
// rewritten) and relays the provider's answer as it was sent. Checked end to end with every service its own process,
// the fake OpenAI upstream as the only provider (behind a transparent HTTP hop that can cut a streamed answer
// mid-character), and real clients: the official `openai` SDK and the Vercel AI SDK.
// Each case asserts both sides: what the provider received (field for field) and what the client got.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateObject, generateText, stepCountIs, tool } from 'ai';
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError, UnprocessableEntityError } from 'openai';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI, type FakeOpenAIRequest } from '@moma/testkit';
import { startSystemOnPrivateNats, type System } from './support/system.ts';

const infra = await testInfra();

type Json = Record<string, any>;

/** MoMA's own request fields: the gateway reads them and must not pass them on. */
const MOMA_FIELDS = [
  'moma',
  'mode',
  'willingness_to_pay',
  'allowed_models',
  'denied_models',
  'max_cost_usd',
  'min_quality',
  'disable_agents',
  'tenant',
  'session_id',
  'switch_to',
];

/** What the provider should receive for `sent`: the same request minus MoMA's fields, with `model` the chosen one. */
function forwarded(sent: Json, model: string, extra: Json = {}): Json {
  const out: Json = structuredClone(sent);
  for (const k of MOMA_FIELDS) delete out[k];
  return { ...out, ...extra, model };
}

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { q: { type: 'string', description: 'the city' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['q'],
      additionalProperties: false,
    },
    strict: true,
  },
};

const timeTool = {
  type: 'function' as const,
  function: { name: 'get_time', description: 'Local time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

/** Requests whose body contains this have their streamed answer cut into network writes that split characters. */
const SPLIT_MARKER = 'split-utf8-please';

/**
 * A transparent HTTP hop in front of the fake provider. For a request carrying SPLIT_MARKER it sends a streamed
 * answer in pieces cut in the middle of 4-byte UTF-8 characters, a few milliseconds apart, so the reader gets
 * reads that end mid-character (on a real network that happens at random; here every time).
 */
async function startSplittingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const split = body.includes(SPLIT_MARKER) && String(answer.headers['content-type'] ?? '').includes('text/event-stream');
        if (!split) return void answer.pipe(res);
        const got: Buffer[] = [];
        answer.on('data', (c: Buffer) => got.push(c));
        answer.on('end', async () => {
          const all = Buffer.concat(got);
          let from = 0;
          for (let cuts = 0; cuts < 40; cuts++) {
            const at = all.indexOf(0xf0, from + 4096); // a 4-byte character's lead byte
            if (at < 0) break;
            res.write(all.subarray(from, at + 2)); // ends two bytes into the character
            from = at + 2;
            await new Promise((r) => setTimeout(r, 3));
          }
          res.end(all.subarray(from));
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe.skipIf(!infra.ok)(`faithful - behaviour${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let proxy: { url: string; close(): Promise<void> };
  let sys: System;
  let client: OpenAI;
  let models: string[] = [];
  const keyPrefix = `faithful-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    proxy = await startSplittingProxy(fake.url);
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: proxy.url, models: ['*'] }],
    });
    client = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: 'test', maxRetries: 0 });
    models = (await client.models.list()).data.map((m) => m.id).filter((id) => id !== 'moma/auto');
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    await proxy?.close();
    await fake?.close();
  });

  /** The one request the fake received since `before` (a count of `fake.requests`). */
  function onlyRequestSince(before: number): FakeOpenAIRequest {
    const got = fake.requests.slice(before);
    expect(got.map((r) => r.model), 'requests the provider received').toHaveLength(1);
    return got[0]!;
  }

  /** The model that served a response, from MoMA's header (`llm:<model>`). */
  function servedBy(response: Response): string {
    const served = response.headers.get('x-moma-served-by') ?? '';
    expect(served).toMatch(/^llm:/);
    return served.slice(4);
  }

  it('faithful - GET /v1/models lists the models the router can choose from', () => {
    expect(models.length).toBeGreaterThan(1);
  });

  describe('faithful - tools', () => {
    it('faithful - tools + tool_choice (non-stream): the provider gets every field, the client gets the tool call', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [
          { role: 'system' as const, content: 'You are a weather assistant.' },
          { role: 'user' as const, content: 'What is the weather in Paris?' },
        ],
        tools: [weatherTool, timeTool],
        tool_choice: { type: 'function' as const, function: { name: 'get_weather' } },
        parallel_tool_calls: false,
        moma: { disable_agents: true, mode: 'balanced' },
      };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent as any).withResponse();
      const model = servedBy(response);
      const got = onlyRequestSince(before);
      expect(got.body).toEqual(forwarded(sent, model));
      // The client's API key is MoMA's business, never the provider's.
      expect(got.headers.authorization ?? '').not.toContain('test');

      expect(data.model).toBe(model);
      const choice = data.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls?.[0] as any;
      expect(call.type).toBe('function');
      expect(call.function.name).toBe('get_weather');
      expect(call.id).toMatch(/^call_/);
      expect(JSON.parse(call.function.arguments)).toEqual({ q: 'What is the weather in Paris?' });
      expect((data as any).moma.decision.target).toBe(response.headers.get('x-moma-target'));

      // The follow-up: the assistant's tool call as the client got it, then the tool's result.
      const followUp = {
        model: 'moma/auto',
        messages: [
          ...sent.messages,
          choice.message,
          { role: 'tool' as const, tool_call_id: call.id, content: '{"temp_c":21,"sky":"clear"}' },
        ],
        tools: [weatherTool, timeTool],
        moma: { disable_agents: true },
      };
      const before2 = fake.requests.length;
      const second = await client.chat.completions.create(followUp as any).withResponse();
      const model2 = servedBy(second.response);
      const got2 = onlyRequestSince(before2);
      expect(got2.body).toEqual(forwarded(followUp, model2));
      expect((got2.body.messages as any[])[2]).toEqual(JSON.parse(JSON.stringify(choice.message)));
      expect((got2.body.messages as any[])[2].tool_calls[0]).toEqual({ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.function.arguments } });
      expect((got2.body.messages as any[])[3]).toEqual({ role: 'tool', tool_call_id: call.id, content: '{"temp_c":21,"sky":"clear"}' });
      expect(second.data.choices[0]!.finish_reason).toBe('stop');
      expect(second.data.choices[0]!.message.content).toBe(`[${model2}] tool said: {"temp_c":21,"sky":"clear"}`);
    });

    it('faithful - tools streaming: the SDK accumulates the tool-call deltas into a complete tool call', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [{ role: 'user' as const, content: 'Weather in Lisbon, please, in celsius.' }],
        tools: [weatherTool],
        tool_choice: 'required' as const,
        disable_agents: true,
      };
      const before = fake.requests.length;
      const stream = client.chat.completions.stream(sent as any);
      const chunks: any[] = [];
      stream.on('chunk', (c) => chunks.push(c));
      const final = await stream.finalChatCompletion();
      const got = onlyRequestSince(before);
      // MoMA asks for the usage chunk it accounts with (and keeps it from a client that did not ask for it).
      expect(got.body).toEqual(forwarded({ ...sent, stream: true }, got.model, { stream_options: { include_usage: true } }));
      expect(got.stream).toBe(true);

      expect(chunks[0].moma.decision.target).toBe(`llm:${got.model}`);
      const choice = final.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls?.[0] as any;
      expect(call.id).toMatch(/^call_\d+$/);
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ q: 'Weather in Lisbon, please, in celsius.' });
      // The deltas really were streamed: one name chunk, several argument pieces.
      const argPieces = chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta?.tool_calls ?? [])).filter((t: any) => t.function?.arguments);
      expect(argPieces.length).toBeGreaterThan(2);
    });
  });

  describe('faithful - structured output', () => {
    it('faithful - response_format json_schema: the schema reaches the provider, the content parses', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [{ role: 'user' as const, content: 'Give me facts about Oslo as JSON.' }],
        response_format: {
          type: 'json_schema' as const,
          json_schema: {
            name: 'city_facts',
            strict: true,
            schema: {
              type: 'object',
              properties: { city: { type: 'string' }, population: { type: 'integer' }, capital: { type: 'boolean' }, districts: { type: 'array', items: { type: 'string' } } },
              required: ['city', 'population', 'capital', 'districts'],
              additionalProperties: false,
            },
          },
        },
      };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
      const parsed = JSON.parse(data.choices[0]!.message.content!);
      expect(parsed).toEqual({ city: `[${model}] Give me facts about Oslo as JSON.`, population: 0, capital: true, districts: [] });
    });

    it('faithful - response_format json_object: the content parses as a JSON object', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [
          { role: 'developer' as const, content: 'Answer in JSON.' },
          { role: 'user' as const, content: 'Name a colour in JSON.' },
        ],
        response_format: { type: 'json_object' as const },
      };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
      expect(JSON.parse(data.choices[0]!.message.content!)).toEqual({ answer: `[${model}] Name a colour in JSON.` });
    });
  });

  it('faithful - image content parts (https and data: URLs) reach the provider unchanged', async () => {
    const sent = {
      model: 'moma/auto',
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'What is in these two pictures?' },
            { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png', detail: 'low' as const } },
            { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==' } },
          ],
        },
      ],
    };
    const before = fake.requests.length;
    const { data, response } = await client.chat.completions.create(sent).withResponse();
    const model = servedBy(response);
    const got = onlyRequestSince(before);
    expect(got.body).toEqual(forwarded(sent, model));
    expect((got.body.messages as any[])[0].content).toEqual(sent.messages[0]!.content);
    expect(data.choices[0]!.message.content).toBe(`[${model}] What is in these two pictures?`);
    // The provider's usage comes back as it counted it (it charges 85 prompt tokens per image).
    expect(data.usage!.prompt_tokens).toBeGreaterThanOrEqual(2 * 85);
  });

  it("faithful - OpenAI's nullable fields (temperature, max_tokens, stream: null) are accepted and forwarded as sent", async () => {
    const sent = {
      model: 'moma/auto',
      messages: [{ role: 'user' as const, content: 'Nulls are fine here.' }],
      temperature: null,
      max_tokens: null,
      top_p: null,
      stream: null,
    };
    const before = fake.requests.length;
    const { data, response } = await client.chat.completions.create(sent as any).withResponse();
    const model = servedBy(response);
    expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
    expect((data as any).choices[0].message.content).toBe(`[${model}] Nulls are fine here.`);
  });

  it('faithful - a custom tool (type "custom") reaches the provider', async () => {
    const sent = {
      model: 'moma/auto',
      messages: [{ role: 'user' as const, content: 'Count the orders placed today.' }],
      tools: [{ type: 'custom' as const, custom: { name: 'run_sql', description: 'Runs one SQL query', format: { type: 'text' as const } } }],
    };
    const before = fake.requests.length;
    const { data, response } = await client.chat.completions.create(sent).withResponse();
    const model = servedBy(response);
    expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
    expect(data.choices[0]!.finish_reason).toBe('tool_calls');
    expect((data.choices[0]!.message.tool_calls?.[0] as any).function.name).toBe('run_sql');
  });

  describe('faithful - sampling and answer shape', () => {
    it('faithful - n: 2 → two choices', async () => {
      const sent = { model: 'moma/auto', messages: [{ role: 'user' as const, content: 'Suggest a name for a cat.' }], n: 2, temperature: 1.2 };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
      expect(data.choices.map((c) => c.index)).toEqual([0, 1]);
      expect(data.choices.map((c) => c.message.content)).toEqual([`[${model}] Suggest a name for a cat.`, `[${model}#1] Suggest a name for a cat.`]);
    });

    it('faithful - stop → the answer is cut before the stop sequence, finish_reason stop', async () => {
      const sent = { model: 'moma/auto', messages: [{ role: 'user' as const, content: 'Count: one two STOP three four' }], stop: ['STOP', '###'] };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
      expect(data.choices[0]!.message.content).toBe(`[${model}] Count: one two `);
      expect(data.choices[0]!.finish_reason).toBe('stop');
    });

    it("faithful - max_tokens: 2 → finish_reason 'length'", async () => {
      const sent = { model: 'moma/auto', messages: [{ role: 'user' as const, content: 'Write a long essay about the sea and its tides.' }], max_tokens: 2 };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));
      expect(data.choices[0]!.finish_reason).toBe('length');
      expect(data.choices[0]!.message.content).toBe(`[${model}] Write `);
      expect(data.usage!.completion_tokens).toBe(2);
    });

    it('faithful - logprobs, user, metadata, seed, top_p, penalties reach the provider; fingerprint, headers and decision come back', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [{ role: 'user' as const, content: 'Say hello to the team.' }],
        logprobs: true,
        top_logprobs: 2,
        user: 'user-1234',
        metadata: { ticket: 'T-42', team: 'routing' },
        seed: 7,
        top_p: 0.9,
        frequency_penalty: 0.5,
        presence_penalty: -0.25,
        temperature: 0.3,
        max_completion_tokens: 100,
        service_tier: 'auto' as const,
        store: false,
        moma: { mode: 'cost', disable_agents: true },
      };
      const before = fake.requests.length;
      const { data, response } = await client.chat.completions.create(sent as any).withResponse();
      const model = servedBy(response);
      expect(onlyRequestSince(before).body).toEqual(forwarded(sent, model));

      const choice = data.choices[0]!;
      expect(choice.message.content).toBe(`[${model}] Say hello to the team.`);
      const lp = choice.logprobs!.content!;
      expect(lp.map((t) => t.token).join('')).toBe(choice.message.content);
      expect(lp.every((t) => t.top_logprobs.length === 2)).toBe(true);
      expect(data.system_fingerprint).toBe('fp_fake');
      expect(data.id).toMatch(/^chatcmpl-fake-\d+$/);
      expect(response.headers.get('x-request-id')).toMatch(/^req_\d+$/);
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('999');
      expect((data as any)._request_id).toBe(response.headers.get('x-request-id'));
      const moma = (data as any).moma;
      expect(moma.decision.target).toBe(`llm:${model}`);
      expect(moma.decision.mode).toBe('cost');
      expect(moma.usage.served_by).toBe(`llm:${model}`);
      expect(response.headers.get('x-moma-mode')).toBe('cost');
    });
  });

  describe('faithful - streaming text', () => {
    const question = 'Stream a few words about rivers and lakes.';

    it('faithful - without include_usage: deltas concatenate to the answer, one usage, MoMA\'s, in the last chunk', async () => {
      const sent = { model: 'moma/auto', messages: [{ role: 'user' as const, content: question }], stream: true as const };
      const before = fake.requests.length;
      const { data: stream, response } = await client.chat.completions.create(sent).withResponse();
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      const got = onlyRequestSince(before);
      expect(got.body).toEqual(forwarded(sent, got.model, { stream_options: { include_usage: true } }));
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      expect(response.headers.get('x-moma-target')).toBe(`llm:${got.model}`);

      expect(chunks[0].moma.decision.target).toBe(`llm:${got.model}`);
      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toBe(`[${got.model}] ${question}`);
      // The provider's chunks as it sent them: its id, model and fingerprint.
      const providerChunks = chunks.filter((c) => c.choices.length > 0);
      expect(providerChunks.every((c) => /^chatcmpl-fake-\d+$/.test(c.id) && c.model === got.model && c.system_fingerprint === 'fp_fake')).toBe(true);
      expect(providerChunks.at(-1).choices[0].finish_reason).toBe('stop');

      const withUsage = chunks.filter((c) => c.usage);
      expect(withUsage).toHaveLength(1);
      const last = chunks.at(-1);
      expect(withUsage[0]).toBe(last);
      expect(last.choices).toEqual([]);
      expect(last.usage.completion_tokens).toBeGreaterThan(0);
      expect(last.usage.total_tokens).toBe(last.usage.prompt_tokens + last.usage.completion_tokens);
      expect(last.moma.usage.served_by).toBe(`llm:${got.model}`);
      expect(last.moma.usage.completion_tokens).toBe(last.usage.completion_tokens);
    });

    it('faithful - with include_usage: exactly one chunk carries usage, the provider\'s; MoMA\'s last chunk has moma.usage only', async () => {
      const sent = {
        model: 'moma/auto',
        messages: [{ role: 'user' as const, content: question }],
        stream: true as const,
        stream_options: { include_usage: true },
      };
      const before = fake.requests.length;
      const stream = await client.chat.completions.create(sent);
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      const got = onlyRequestSince(before);
      expect(got.body).toEqual(forwarded(sent, got.model));

      const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
      expect(text).toBe(`[${got.model}] ${question}`);
      const withUsage = chunks.filter((c) => c.usage);
      expect(withUsage).toHaveLength(1);
      // The provider's own usage chunk, unchanged (its id and its detailed usage).
      expect(withUsage[0].id).toMatch(/^chatcmpl-fake-\d+$/);
      expect(withUsage[0].choices).toEqual([]);
      expect(withUsage[0].usage.completion_tokens_details).toBeDefined();
      const last = chunks.at(-1);
      expect(last).not.toBe(withUsage[0]);
      expect(last.choices).toEqual([]);
      expect(last.usage ?? null).toBeNull();
      expect(last.moma.usage.completion_tokens).toBe(withUsage[0].usage.completion_tokens);
    });

    it('faithful - stream: the SDK\'s accumulated completion keeps the provider\'s id (MoMA\'s own chunk does not replace it)', async () => {
      const stream = client.chat.completions.stream({ model: 'moma/auto', messages: [{ role: 'user', content: question }] });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0]!.message.content).toBe(`[${final.model}] ${question}`);
      expect(final.id).toMatch(/^chatcmpl-fake-\d+$/);
    });

    it('faithful - stream: non-ASCII text split across network reads arrives intact', async () => {
      // The provider's SSE body reaches the executor in reads cut mid-character (see startSplittingProxy).
      const long = `${SPLIT_MARKER} ${Array.from({ length: 60 }, (_, i) => `${'🌍'.repeat(100)}${i}`).join(' ')}`;
      // Control: the same split stream read by the SDK straight from the provider (through the same hop) is intact.
      const direct = await new OpenAI({ baseURL: proxy.url, apiKey: 'test', maxRetries: 0 }).chat.completions.create({
        model: models[0]!,
        messages: [{ role: 'user', content: long }],
        stream: true,
      });
      let directText = '';
      for await (const c of direct) directText += c.choices[0]?.delta?.content ?? '';
      expect(directText).toBe(`[${models[0]}] ${long}`);
      // Control: the same text through MoMA without streaming (one whole body) is intact.
      const whole = await client.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: long }] });
      expect(whole.choices[0]!.message.content).toBe(`[${whole.model}] ${long}`);

      const stream = await client.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: long }], stream: true });
      let text = '';
      let model = '';
      for await (const c of stream) {
        text += c.choices[0]?.delta?.content ?? '';
        if (c.choices.length > 0) model = c.model;
      }
      expect(text.includes('\uFFFD'), 'replacement characters in the streamed text').toBe(false);
      expect(text).toBe(`[${model}] ${long}`);
    });

    it('faithful - stream: the provider\'s x-request-id header comes back on a streamed answer too', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'moma/auto', messages: [{ role: 'user', content: question }], stream: true })
        .withResponse();
      for await (const _ of stream) void _;
      expect(response.headers.get('x-request-id') ?? '(no x-request-id header)', 'x-request-id on a streamed answer').toMatch(/^req_\d+$/);
    });
  });

  describe('faithful - provider refusals and failures', () => {
    const refusals: Array<[number, new (...args: any[]) => APIError]> = [
      [400, BadRequestError],
      [401, AuthenticationError],
      [403, PermissionDeniedError],
      [404, NotFoundError],
      [422, UnprocessableEntityError],
    ];
    for (const [status, ErrorClass] of refusals) {
      it(`faithful - provider ${status} → the client gets ${ErrorClass.name} (${status}) and no other model is tried`, async () => {
        const before = fake.calls();
        fake.setFailing(['*'], { status });
        try {
          const err = await client.chat.completions
            .create({ model: 'moma/auto', messages: [{ role: 'user', content: `Refuse me with ${status}.` }] })
            .then(() => undefined, (e: unknown) => e);
          expect(err).toBeInstanceOf(ErrorClass);
          expect((err as APIError).status).toBe(status);
          expect((err as APIError).message).toContain(`is failing (${status})`);
        } finally {
          fake.setFailing([]);
        }
        expect(fake.calls() - before).toBe(1);
      });
    }

    it('faithful - provider 400 on a stream → a 400 status, not an SSE stream, and no fallback', async () => {
      const before = fake.calls();
      fake.setFailing(['*'], { status: 400 });
      try {
        const err = await client.chat.completions
          .create({ model: 'moma/auto', messages: [{ role: 'user', content: 'Refuse this stream.' }], stream: true })
          .then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(BadRequestError);
      } finally {
        fake.setFailing([]);
      }
      expect(fake.calls() - before).toBe(1);
    });

    it('faithful - a provider refusal message is scrubbed of keys before it reaches the client', async () => {
      fake.setFailing(['*'], { status: 401, body: { error: { message: 'Incorrect API key provided: sk-abcdefghijklmnopqrstuvwxyz1234.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
      try {
        const err = (await client.chat.completions
          .create({ model: 'moma/auto', messages: [{ role: 'user', content: 'Who am I?' }] })
          .then(() => undefined, (e: unknown) => e)) as APIError;
        expect(err).toBeInstanceOf(AuthenticationError);
        expect(err.message).toContain('Incorrect API key provided');
        expect(err.message).not.toContain('sk-abcdefghijklmnopqrstuvwxyz1234');
      } finally {
        fake.setFailing([]);
      }
    });

    it('faithful - 500 on the first-ranked model only → the answer comes from the next model', async () => {
      const sent = { model: 'moma/auto', messages: [{ role: 'user' as const, content: 'Translate "thank you" into Italian.' }], seed: 3, moma: { disable_agents: true } };
      const routed = (await (await fetch(`${sys.httpUrl}/v1/route`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) })).json()) as any;
      const [first, second] = routed.decision.ranked.map((c: any) => c.target.slice(4)) as string[];
      expect(first && second).toBeTruthy();
      const before = fake.requests.length;
      fake.setFailing([first!], { status: 500 });
      try {
        const { data, response } = await client.chat.completions.create(sent as any).withResponse();
        expect(response.headers.get('x-moma-target')).toBe(`llm:${first}`);
        expect(servedBy(response)).toBe(second);
        expect(data.model).toBe(second);
        expect(data.choices[0]!.message.content).toBe(`[${second}] Translate "thank you" into Italian.`);
        expect((data as any).moma.usage.failed).toEqual([`llm:${first}`]);
        const got = fake.requests.slice(before);
        expect(got.map((r) => r.model)).toEqual([first, second]);
        // Each model got the same request, only `model` differs.
        expect(got[0]!.body).toEqual(forwarded(sent, first!));
        expect(got[1]!.body).toEqual(forwarded(sent, second!));
      } finally {
        fake.setFailing([]);
      }
    });

    it('faithful - every provider rate-limited → 503 with Retry-After and the attempts, at most 3 upstream calls', async () => {
      const before = fake.requests.length;
      fake.setFailing(['*'], { status: 429, retryAfterSeconds: 1 });
      try {
        const res = await fetch(`${sys.httpUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: 'Rate limited everywhere?' }], moma: { disable_agents: true } }),
        });
        const body = (await res.json()) as any;
        expect(res.status).toBe(503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(body.error.attempts.length).toBeGreaterThan(0);
        expect(body.error.attempts[0].outcome).toBe('http_429');
        expect(fake.requests.length - before).toBeLessThanOrEqual(3);
      } finally {
        fake.setFailing([]);
        // the limited models are skipped until Retry-After passes; let it pass for the tests that follow
        await new Promise((r) => setTimeout(r, 1100));
      }
    });
  });

  describe('faithful - malformed parts are refused with 400 naming the field, nothing sent upstream', () => {
    const user = (content: unknown) => ({ role: 'user', content });
    const cases: Array<[string, Json, string]> = [
      [
        'a tool result that answers no tool call',
        { messages: [user('Weather?'), { role: 'assistant', content: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'call_b', content: 'sunny' }] },
        'messages.2.tool_call_id',
      ],
      ['a tool result before any tool call', { messages: [user('Weather?'), { role: 'tool', tool_call_id: 'call_x', content: 'sunny' }] }, 'messages.1.tool_call_id'],
      ['an unknown content-part type', { messages: [user([{ type: 'text', text: 'Look:' }, { type: 'video_url', video_url: { url: 'https://example.com/v.mp4' } }])] }, 'messages.0.content.1.type'],
      ['an image URL that is not http(s) or data:', { messages: [user([{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'file:///etc/passwd' } }])] }, 'messages.0.content.1.image_url.url'],
      ['a tool without a function name', { messages: [user('Use a tool.')], tools: [{ type: 'function', function: { description: 'nameless' } }] }, 'tools.0'],
      ['a tool whose parameters are not an object', { messages: [user('Use a tool.')], tools: [weatherTool, { type: 'function', function: { name: 'bad', parameters: ['q'] } }] }, 'tools.1.function.parameters'],
      ['a json_schema whose schema is not an object', { messages: [user('JSON please.')], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: 'object' } } }, 'response_format.json_schema'],
    ];
    for (const [name, body, field] of cases) {
      it(`faithful - ${name} → 400 ${field}`, async () => {
        const before = fake.calls();
        const err = (await client.chat.completions.create({ model: 'moma/auto', ...body } as any).then(() => undefined, (e: unknown) => e)) as APIError;
        expect(err).toBeInstanceOf(BadRequestError);
        expect(err.status).toBe(400);
        expect(err.param).toBe(field);
        expect(err.message).toContain(field);
        // Streamed requests are refused the same way, before any SSE.
        const streamed = (await client.chat.completions
          .create({ model: 'moma/auto', ...body, stream: true } as any)
          .then(() => undefined, (e: unknown) => e)) as APIError;
        expect(streamed).toBeInstanceOf(BadRequestError);
        expect(streamed.param).toBe(field);
        expect(fake.calls()).toBe(before);
      });
    }
  });

  it("faithful - a session: the second turn's forwarded body carries the first question and answer before the new message", async () => {
    const created = await fetch(`${sys.httpUrl}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(created.status).toBe(201);
    const sid = ((await created.json()) as { session_id: string }).session_id;
    const opts = { headers: { 'x-moma-session-id': sid } };

    const q1 = 'My favourite number is 42.';
    const sent1 = { model: 'moma/auto', messages: [{ role: 'user' as const, content: q1 }], temperature: 0.2 };
    const before1 = fake.requests.length;
    const first = await client.chat.completions.create(sent1, opts).withResponse();
    expect(first.response.headers.get('x-moma-session-id')).toBe(sid);
    expect((first.data as any).session_id).toBe(sid);
    const a1 = first.data.choices[0]!.message.content!;
    expect(onlyRequestSince(before1).body).toEqual(forwarded(sent1, servedBy(first.response)));

    const q2 = 'What is my favourite number?';
    const sent2 = {
      model: 'moma/auto',
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: [{ type: 'text' as const, text: q2 }] },
      ],
      user: 'session-user',
    };
    const before2 = fake.requests.length;
    const second = await client.chat.completions.create(sent2, opts).withResponse();
    const model2 = servedBy(second.response);
    const got = onlyRequestSince(before2);
    expect(got.body).toEqual(
      forwarded(
        {
          ...sent2,
          messages: [sent2.messages[0], { role: 'user', content: q1 }, { role: 'assistant', content: a1 }, sent2.messages[1]],
        },
        model2,
      ),
    );
    expect(second.data.choices[0]!.message.content).toBe(`[${model2}] ${q2}`);
  });

  describe('faithful - Vercel AI SDK through MoMA', () => {
    const moma = () =>
      createOpenAICompatible({ name: 'moma', baseURL: `${sys.httpUrl}/v1`, apiKey: 'test', supportsStructuredOutputs: true });

    it('faithful - generateText with a tool: the tool is called and its result answered', async () => {
      const before = fake.requests.length;
      const calls: string[] = [];
      const result = await generateText({
        model: moma()('moma/auto'),
        prompt: 'What is the weather in Rome?',
        tools: {
          get_weather: tool({
            description: 'Current weather for a city',
            inputSchema: z.object({ q: z.string() }),
            execute: async ({ q }) => {
              calls.push(q);
              return { temp_c: 24 };
            },
          }),
        },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      expect(calls).toEqual(['What is the weather in Rome?']);
      const got = fake.requests.slice(before);
      expect(got).toHaveLength(2);
      expect((got[0]!.body.tools as any[])[0].function.name).toBe('get_weather');
      const msgs = got[1]!.body.messages as any[];
      const callId = msgs[1].tool_calls[0].id;
      expect(msgs.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
      expect(msgs[2].tool_call_id).toBe(callId);
      expect(result.text).toBe(`[${got[1]!.model}] tool said: ${msgs[2].content}`);
      expect(msgs[2].content).toContain('24');
    });

    it('faithful - generateObject with a zod schema: the object matches the schema', async () => {
      const before = fake.requests.length;
      const { object } = await generateObject({
        model: moma()('moma/auto'),
        schema: z.object({ city: z.string(), population: z.number(), coastal: z.boolean() }),
        prompt: 'Facts about Genoa.',
        maxRetries: 0,
      });
      const got = onlyRequestSince(before);
      expect((got.body.response_format as any).type).toBe('json_schema');
      expect(object).toEqual({ city: `[${got.model}] Facts about Genoa.`, population: 0, coastal: true });
    });
  });

  it('faithful - no service died during the run', () => {
    expect(sys.deaths).toEqual([]);
  });
});
