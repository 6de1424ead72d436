// failedTargetsOf: what a turn tells the session about failed models (the session demotes them on later turns).
import { llmTarget, agentTarget } from '@moma/core/rules';
import { Code, MomaError } from '@moma/platform';
import { describe, expect, it } from 'vitest';
import { failedTargetsOf, type Outcome } from './execute.ts';

const outcome = (fallbacks: Outcome['fallbacks'], failed: Outcome['fallbacks'] = []): Outcome => ({
  text: 'ok',
  body: undefined,
  headers: {},
  forwarded: false,
  usage: { promptTokens: 1, completionTokens: 1, costUsd: 0, latencyMs: 1, servedBy: llmTarget('c'), failed },
  fallbacks,
  agentState: '',
  agentContextId: '',
  agentTaskId: '',
});

describe('gateway - failed targets of a turn', () => {
  it('failed - an answered turn: the fallbacks and the usage\'s failed targets, once each', () => {
    expect(failedTargetsOf(outcome([llmTarget('a')], [llmTarget('a'), llmTarget('b')]))).toEqual([llmTarget('a'), llmTarget('b')]);
    expect(failedTargetsOf(outcome([]))).toEqual([]);
  });

  it('failed - a turn on which every attempt failed: the targets tried, not those without a provider', () => {
    const err = new MomaError(Code.UNAVAILABLE, 'all 3 target(s) failed', {
      details: {
        attempts: [
          { target: 'llm:a', provider: 'p', outcome: 'http_500' },
          { target: 'agent:bot', provider: '', outcome: 'connection_error' },
          { target: 'llm:b', provider: 'p', outcome: 'timeout_first_byte' },
          { target: 'llm:a', provider: 'q', outcome: 'http_503' },
          { target: 'llm:z', provider: '', outcome: 'no_provider' },
          { target: 'not a target', provider: '', outcome: 'error' },
        ],
      },
    });
    expect(failedTargetsOf(undefined, err)).toEqual([llmTarget('a'), agentTarget('bot'), llmTarget('b')]);
  });

  it('failed - a refused request or a cancelled call says nothing about the models', () => {
    const attempts = [{ target: 'llm:a', provider: 'p', outcome: 'http_400' }];
    expect(failedTargetsOf(undefined, new MomaError(Code.INVALID_ARGUMENT, 'bad request', { details: { attempts } }))).toEqual([]);
    expect(failedTargetsOf(undefined, new MomaError(Code.CANCELLED, 'cancelled'))).toEqual([]);
  });
});
