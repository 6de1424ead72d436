// No executor connected when a turn arrives (the one that took the calls died, or none has started yet): the gateway
// waits a bounded moment for one to connect instead of failing at once, and says so with a 503 when none does.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@moma/platform/testing';
import { ExecutorService, type ExecuteRequest } from '@moma/proto';
import { postJson, serveLlmOnlyStages, startStandInGateway, type StandInGateway } from './test-support.ts';

const empty = { agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} };
const executor = {
  execute: (call: grpc.ServerWritableStream<ExecuteRequest, unknown>) => {
    call.write({ ...empty, delta: 'late but here' });
    call.write({ ...empty, usage: { promptTokens: 3, completionTokens: 3, costUsd: 0, latencyMs: 1, servedBy: call.request.decision!.target, failed: [] } });
    call.end();
  },
};

const chat = (url: string) =>
  postJson(url, '/v1/chat/completions', { model: 'moma/auto', messages: [{ role: 'user', content: 'hello' }] }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

describe('gateway - no executor connected yet', () => {
  let standIn: StandInGateway | undefined;
  let late: grpc.Server | undefined;
  afterEach(async () => {
    late?.forceShutdown();
    late = undefined;
    await standIn?.stop();
    standIn = undefined;
  });

  it('gateway http - a turn that finds no executor connected is served by one that comes up within the wait', async () => {
    const port = await freePort();
    // The stand-in's own executor is not the one named: the gateway's only executor starts after the request.
    standIn = await startStandInGateway(serveLlmOnlyStages, executor, { EXECUTOR_ADDR: `127.0.0.1:${port}` });
    const pending = chat(standIn.gw.httpUrl);
    await new Promise((r) => setTimeout(r, 400));
    late = new grpc.Server();
    late.addService(ExecutorService, executor);
    await new Promise<void>((resolve, reject) => late!.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.choices[0].message.content).toBe('late but here');
  });

  it('gateway http - when no executor connects within the wait the turn is a 503 that says the executor is unreachable', async () => {
    const port = await freePort();
    standIn = await startStandInGateway(serveLlmOnlyStages, executor, { EXECUTOR_ADDR: `127.0.0.1:${port}` });
    const res = await chat(standIn.gw.httpUrl);
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/^executor unreachable: /);
    expect(res.body.error.code).toBe('unavailable');
  });
});
