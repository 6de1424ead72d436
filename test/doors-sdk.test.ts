// The gateway's other doors driven by the official clients against the real system (every service its own process
// on NATS and Redis, a local OpenAI-compatible upstream): `@anthropic-ai/sdk` on POST /v1/messages (create, and
// stream with a tool), `openai` on POST /v1/responses (create, streamed, with a function tool) and GET /v1/models/{id}.
// If an SDK can parse what the gateway sends into its own types, the shapes are the real ones.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { dropKeys, startSystem, type System } from './support/system.ts';

const infra = await testInfra();

describe.skipIf(!infra.ok)(`doors - the official SDKs against a real gateway${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  let anthropic: Anthropic;
  let openai: OpenAI;
  const keyPrefix = `doors-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    sys = await startSystem({ natsUrl: infra.natsUrl, redisUrl: infra.redisUrl, keyPrefix, providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'] }] });
    anthropic = new Anthropic({ baseURL: sys.httpUrl, apiKey: 'unused', maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
  }, 90_000);

  afterAll(async () => {
    await sys?.stop();
    if (infra.ok) await dropKeys(infra.redisUrl, keyPrefix);
    await fake?.close();
  });

  const weather = {
    name: 'get_weather',
    description: 'The weather in a city',
    input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
  };

  describe('doors - @anthropic-ai/sdk', () => {
    it('doors - messages.create: a text answer with the decision in headers and `moma`', async () => {
      const { data: msg, response } = await anthropic.messages
        .create({
          model: 'moma/auto',
          max_tokens: 128,
          system: 'Answer in one word.',
          metadata: { user_id: 'sdk-user' },
          messages: [{ role: 'user', content: 'What is the capital of France?' }],
        })
        .withResponse();
      const target = response.headers.get('x-moma-target')!;
      expect(target).toMatch(/^llm:/);
      expect(msg.type).toBe('message');
      expect(msg.role).toBe('assistant');
      expect(msg.id).toMatch(/^msg_/);
      // The fake upstream answers "[<model>] <question>": the model that served, and what it was asked.
      expect(msg.model).toBe(target.slice(4));
      expect(msg.content).toEqual([{ type: 'text', text: `[${target.slice(4)}] What is the capital of France?` }]);
      expect(msg.stop_reason).toBe('end_turn');
      expect(msg.usage.input_tokens).toBeGreaterThan(0);
      expect(msg.usage.output_tokens).toBeGreaterThan(0);
      expect((msg as unknown as { moma: { decision: { target: string } } }).moma.decision.target).toBe(target);
      const sent = fake.requests.at(-1)!.body;
      expect(sent).toMatchObject({
        model: target.slice(4),
        messages: [
          { role: 'system', content: 'Answer in one word.' },
          { role: 'user', content: 'What is the capital of France?' },
        ],
        max_completion_tokens: 128,
        user: 'sdk-user',
      });
    });

    it('doors - messages.create: an image and max_tokens that cuts the answer (stop_reason max_tokens)', async () => {
      const msg = await anthropic.messages.create({
        model: 'moma/auto',
        max_tokens: 2,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'text', text: 'Describe this picture in many words please.' },
            ],
          },
        ],
      });
      expect(msg.stop_reason).toBe('max_tokens');
      expect(msg.usage.output_tokens).toBe(2);
      const part = (fake.requests.at(-1)!.body.messages as Array<{ content: Array<Record<string, unknown>> }>)[0]!.content[0];
      expect(part).toEqual({ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } });
    });

    it('doors - messages.stream with a tool: a tool_use block, then the tool result answered', async () => {
      const question = 'What is the weather in Oslo?';
      const stream = anthropic.messages.stream({ model: 'moma/auto', max_tokens: 256, tools: [weather], messages: [{ role: 'user', content: question }] });
      const types: string[] = [];
      stream.on('streamEvent', (e) => types.push(e.type));
      const first = await stream.finalMessage();
      expect(types[0]).toBe('message_start');
      expect(types).toContain('content_block_delta');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { q: question } });
      expect(fake.requests.at(-1)!.body).toMatchObject({ stream: true, tools: [{ type: 'function', function: { name: 'get_weather' } }] });

      const second = anthropic.messages.stream({
        model: 'moma/auto',
        max_tokens: 256,
        tools: [weather],
        messages: [
          { role: 'user', content: question },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use!.id, content: '3°C and clear' }] },
        ],
      });
      let streamed = '';
      second.on('text', (t) => {
        streamed += t;
      });
      const answer = await second.finalMessage();
      expect(answer.stop_reason).toBe('end_turn');
      expect(answer.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('tool said: 3°C and clear') });
      expect(streamed).toBe((answer.content[0] as { text: string }).text);
      expect(answer.usage.output_tokens).toBeGreaterThan(0);
      const sent = fake.requests.at(-1)!.body.messages as Array<Record<string, unknown>>;
      expect(sent.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: use!.id, function: { name: 'get_weather' } }] });
      expect(sent.at(-1)).toEqual({ role: 'tool', tool_call_id: use!.id, content: '3°C and clear' });
    });

    it('doors - errors reach the SDK as its typed errors, Anthropic-shaped', async () => {
      const err = await anthropic.messages.create({ model: 'claude-none', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.NotFoundError);
      expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
      const bad = await anthropic.messages
        .create({ model: 'moma/auto', max_tokens: 8, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
      expect((bad as Error).message).toContain('server tool');
    });
  });

  describe('doors - openai SDK', () => {
    it('doors - models.retrieve: moma/auto and a routable model; an unknown one is NotFound', async () => {
      expect(await openai.models.retrieve('moma/auto')).toMatchObject({ id: 'moma/auto', object: 'model', owned_by: 'moma' });
      const listed = (await openai.models.list()).data.map((m) => m.id);
      const some = listed.find((id) => id !== 'moma/auto')!;
      expect(await openai.models.retrieve(some)).toMatchObject({ id: some, object: 'model' });
      await expect(openai.models.retrieve('gpt-none')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('doors - responses.create: input and instructions → a completed Response with output_text', async () => {
      const res = await openai.responses.create({ model: 'moma/auto', instructions: 'Be brief.', input: 'Name a primary colour.', max_output_tokens: 64, store: false });
      expect(res.object).toBe('response');
      expect(res.status).toBe('completed');
      expect(res.output_text).toBe(`[${res.model}] Name a primary colour.`);
      expect(res.usage?.output_tokens).toBeGreaterThan(0);
      expect(fake.requests.at(-1)!.body).toMatchObject({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Name a primary colour.' },
        ],
        max_completion_tokens: 64,
      });
    });

    it('doors - responses.create stream: the Responses events, text deltas adding up to the completed response', async () => {
      const stream = await openai.responses.create({ model: 'moma/auto', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Stream about tides.' }] }], stream: true });
      const types: string[] = [];
      let text = '';
      let done: OpenAI.Responses.Response | undefined;
      for await (const e of stream) {
        types.push(e.type);
        if (e.type === 'response.output_text.delta') text += e.delta;
        if (e.type === 'response.completed') done = e.response;
      }
      expect(types[0]).toBe('response.created');
      expect(types).toContain('response.output_text.delta');
      expect(types.at(-1)).toBe('response.completed');
      expect(text).toBe(`[${done!.model}] Stream about tides.`);
      expect(done!.output[0]).toMatchObject({ type: 'message', content: [{ type: 'output_text', text }] });
    });

    it('doors - responses.stream (the SDK\'s accumulating helper) gives the final response', async () => {
      const stream = openai.responses.stream({ model: 'moma/auto', input: 'Accumulate this.' });
      const final = await stream.finalResponse();
      expect(final.output_text).toBe(`[${final.model}] Accumulate this.`);
    });

    it('doors - responses.create with a function tool: a function_call item, then its output answered', async () => {
      const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', parameters: weather.input_schema, strict: false }];
      const first = await openai.responses.create({ model: 'moma/auto', input: 'Weather in Rome?', tools });
      const call = first.output.find((o) => o.type === 'function_call');
      expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: JSON.stringify({ q: 'Weather in Rome?' }) });
      const second = await openai.responses.create({
        model: 'moma/auto',
        tools,
        input: [{ role: 'user', content: 'Weather in Rome?' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call!.call_id, output: '19°C' }],
      });
      expect(second.output_text).toContain('tool said: 19°C');
    });

    it('doors - stateful Responses requests are a 400 that names the limitation', async () => {
      const err = await openai.responses.create({ model: 'moma/auto', input: 'x', previous_response_id: 'resp_123' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as Error).message).toContain('stateless');
      const tool = await openai.responses.create({ model: 'moma/auto', input: 'x', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
      expect(tool).toBeInstanceOf(OpenAI.BadRequestError);
      expect((tool as Error).message).toContain('built-in tool "web_search"');
    });
  });
});
