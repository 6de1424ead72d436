import * as grpc from '@grpc/grpc-js';
import { ExecutorClient, ExecuteRequest } from '@moma/proto';
import { testInfra, uniqueId, startFakeOpenAI } from '@moma/testkit';
import OpenAI from '../services/executor/node_modules/openai/index.mjs';
import { startPrivateNats, startSystem } from '../test/support/system.ts';
const infra = await testInfra();
const fake = await startFakeOpenAI({ host: '127.0.0.1', record: false });
const nats = await startPrivateNats();
const sys = await startSystem({ natsUrl: nats?.url ?? infra.natsUrl, redisUrl: infra.redisUrl, keyPrefix: `probe-${uniqueId()}:`, providers: [{ name: 'b', baseUrl: fake.url, models: ['*'] }], env: { OTEL_SDK_DISABLED: 'false' } });
const q = (a: number[], p: number) => a.sort((x, y) => x - y)[Math.floor(a.length * p)]!.toFixed(2);
const client = new ExecutorClient(sys.executorAddr, grpc.credentials.createInsecure());
const req = ExecuteRequest.fromPartial({ decision: { target: 'llm:m', ranked: [{ target: 'llm:m' }] }, messages: [{ role: 'user', content: 'What is the capital of France?' }], stream: false });
for (const stream of [false, true, false]) {
  const tot: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await new Promise<void>((res, rej) => { const c = client.execute({ ...req, stream }); c.on('data', () => {}); c.on('end', res); c.on('error', rej); });
    tot.push(performance.now() - t);
  }
  console.log('executor direct stream', stream, 'p50', q(tot, 0.5), 'p90', q(tot, 0.9));
}
const oa = new OpenAI({ baseURL: fake.url, apiKey: 'x', maxRetries: 0 });
const tot: number[] = [];
for (let i = 0; i < 300; i++) { const t = performance.now(); await oa.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }); tot.push(performance.now() - t); }
console.log('openai direct p50', q(tot, 0.5), 'p90', q(tot, 0.9));
client.close();
await sys.stop(); await nats?.stop(); await fake.close();
