import * as grpc from '@grpc/grpc-js';
import { ExecutorClient, ExecuteRequest } from '@moma/proto';
import { testInfra, uniqueId } from '@moma/testkit';
import { Worker } from 'node:worker_threads';
import { startPrivateNats, startSystem } from '../test/support/system.ts';
const testkit = new URL('../packages/testkit/src/fake-openai.ts', import.meta.url).href;
const worker = new Worker(`const { parentPort } = require('node:worker_threads'); import(${JSON.stringify(testkit)}).then(async (m) => { const f = await m.startFakeOpenAI({ host: '127.0.0.1', record: false }); parentPort.postMessage(f.url); });`, { eval: true });
const url: string = await new Promise((r) => worker.once('message', r));
const infra = await testInfra();
const nats = await startPrivateNats();
const sys = await startSystem({ natsUrl: nats?.url ?? infra.natsUrl, redisUrl: infra.redisUrl, keyPrefix: `probe-${uniqueId()}:`, providers: [{ name: 'b', baseUrl: url, models: ['*'] }], env: { OTEL_SDK_DISABLED: 'false' } });
const q = (a: number[], p: number) => a.sort((x, y) => x - y)[Math.floor(a.length * p)]!.toFixed(2);
const client = new ExecutorClient(sys.executorAddr, grpc.credentials.createInsecure());
const req = ExecuteRequest.fromPartial({ decision: { target: 'llm:m', ranked: [{ target: 'llm:m' }] }, messages: [{ role: 'user', content: 'What is the capital of France?' }], stream: false });
for (const stream of [false, true, false]) {
  const tot: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await new Promise<void>((res, rej) => { const c = client.execute({ ...req, stream }); c.on('data', () => {}); c.on('end', res); c.on('error', rej); });
    tot.push(performance.now() - t);
  }
  console.log('executor direct stream', stream, 'p50', q(tot, 0.5), 'p90', q(tot, 0.9));
}
const body = JSON.stringify({ model: 'moma/auto', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
for (const path of ['/v1/route', '/v1/chat/completions', '/v1/route', '/v1/chat/completions']) {
  const tot: number[] = []; const dec: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    const r = await fetch(sys.httpUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    tot.push(performance.now() - t); dec.push(Number(r.headers.get('x-moma-decision-ms') ?? 0));
  }
  console.log(path.padEnd(22), 'total p50', q(tot, 0.5), 'p90', q(tot, 0.9), ' decision p50', q(dec, 0.5), 'p90', q(dec, 0.9));
}
client.close();
await sys.stop(); await nats?.stop(); await worker.terminate();
