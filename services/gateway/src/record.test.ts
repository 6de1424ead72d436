// A session never lies: when the orchestrator cannot record a turn, a whole answer is 503 (not a 200 whose turn is
// missing from the history) and a stream's final event says `session_recorded: false`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { MomaError } from '@moma/platform';
import type { ExecuteRequest, ExecuteResponse, RecordTurnRequest } from '@moma/proto';
import { postJson, serveLlmOnlyStages, startStandInGateway, type StandInGateway } from './test-support.ts';

let standIn: StandInGateway;
const recorded: string[] = [];

const recordTurn = async (req: RecordTurnRequest) => {
  if (req.sessionId === 's-broken') throw MomaError.unavailable('redis is down');
  recorded.push(req.sessionId);
  return { fsmState: 'llm', version: 2 };
};

const EMPTY = { agentState: '', agentContextId: '', agentTaskId: '', text: '', body: Buffer.alloc(0), headers: {} };
const answer = (call: grpc.ServerWritableStream<ExecuteRequest, ExecuteResponse>) => {
  call.write({ ...EMPTY, delta: 'four' } as ExecuteResponse);
  call.write({ ...EMPTY, usage: { promptTokens: 3, completionTokens: 1, costUsd: 0, latencyMs: 1, servedBy: { kind: 1, id: 'm-large' }, failed: [], attempts: [] } } as unknown as ExecuteResponse);
  call.end();
};

beforeAll(async () => {
  standIn = await startStandInGateway((b) => serveLlmOnlyStages(b, { recordTurn }), { execute: answer });
});
afterAll(async () => {
  await standIn?.stop();
});

describe('gateway - recording a session turn', () => {
  it('gateway record - a whole answer whose turn cannot be recorded is 503, not a 200 the history lacks', async () => {
    const ok = await postJson(standIn.gw.httpUrl, '/v1/chat/completions', { messages: [{ role: 'user', content: '2+2?' }], moma: { session_id: 's-fine' } });
    expect(ok.status).toBe(200);
    expect(recorded).toContain('s-fine');
    const res = await postJson(standIn.gw.httpUrl, '/v1/chat/completions', { messages: [{ role: 'user', content: '2+2?' }], moma: { session_id: 's-broken' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/could not be recorded in session s-broken/);
  });

  it('gateway record - a stream whose turn cannot be recorded says so in its final event', async () => {
    const res = await postJson(standIn.gw.httpUrl, '/v1/chat/completions', { messages: [{ role: 'user', content: '2+2?' }], stream: true, moma: { session_id: 's-broken' } });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    const last = events.at(-1);
    expect(last.moma).toMatchObject({ session_recorded: false, error: { code: 'unavailable' } });
    const fine = await postJson(standIn.gw.httpUrl, '/v1/chat/completions', { messages: [{ role: 'user', content: '2+2?' }], stream: true, moma: { session_id: 's-fine' } });
    const fineEvents = (await fine.text()).split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
    expect(fineEvents.at(-1).moma.session_recorded).toBeUndefined();
  });

  it('gateway record - the Anthropic and Responses streams say so in their final event too', async () => {
    const doors = [
      ['/v1/messages', { model: 'moma/auto', max_tokens: 50, stream: true, messages: [{ role: 'user', content: '2+2?' }] }],
      ['/v1/responses', { model: 'moma/auto', stream: true, input: '2+2?' }],
    ] as const;
    for (const [path, body] of doors) {
      for (const sid of ['s-broken', 's-fine']) {
        const res = await fetch(`${standIn.gw.httpUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-moma-session-id': sid },
          body: JSON.stringify(body),
        });
        expect(res.status, path).toBe(200);
        const events = (await res.text()).split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
        // Anthropic puts MoMA's account on its events, Responses on the response object they carry.
        const withMoma = events.map((e) => e.moma ?? e.response?.moma).filter((m) => m?.usage !== undefined);
        expect(withMoma.length, `${path} ${sid}`).toBeGreaterThan(0);
        const last = withMoma.at(-1);
        if (sid === 's-broken') expect(last, path).toMatchObject({ session_recorded: false, error: { code: 'unavailable' } });
        else expect(last.session_recorded, path).toBeUndefined();
      }
    }
  });
});
