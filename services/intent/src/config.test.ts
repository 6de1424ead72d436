import { describe, expect, it } from 'vitest';
import { ConfigError } from '@moma/platform';
import { loadIntentConfig } from './config.ts';

describe('intent config', () => {
  it('intent config - MOMA_AGENT_FAST_PATH is unset by default (the index keeps its own), a number ≥ 0 when given', () => {
    expect(loadIntentConfig({}).MOMA_AGENT_FAST_PATH).toBeUndefined();
    expect(loadIntentConfig({ MOMA_AGENT_FAST_PATH: '2' }).MOMA_AGENT_FAST_PATH).toBe(2);
    expect(loadIntentConfig({ MOMA_AGENT_FAST_PATH: '0.5' }).MOMA_AGENT_FAST_PATH).toBe(0.5);
    for (const bad of ['x', '-1']) {
      expect(() => loadIntentConfig({ MOMA_AGENT_FAST_PATH: bad })).toThrow(ConfigError);
      expect(() => loadIntentConfig({ MOMA_AGENT_FAST_PATH: bad })).toThrow(/MOMA_AGENT_FAST_PATH/);
    }
  });

  it('intent config - MOMA_AGENT_FAST_REJECT is unset by default, a number in [0, 1) when given', () => {
    expect(loadIntentConfig({}).MOMA_AGENT_FAST_REJECT).toBeUndefined();
    expect(loadIntentConfig({ MOMA_AGENT_FAST_REJECT: '0.05' }).MOMA_AGENT_FAST_REJECT).toBe(0.05);
    expect(loadIntentConfig({ MOMA_AGENT_FAST_REJECT: '0' }).MOMA_AGENT_FAST_REJECT).toBe(0);
    for (const bad of ['x', '-0.1', '1']) expect(() => loadIntentConfig({ MOMA_AGENT_FAST_REJECT: bad })).toThrow(/MOMA_AGENT_FAST_REJECT/);
  });

  it('intent config - MOMA_AGENT_STATIC_PATH is unset (the middle path off) by default, a number ≥ 0 when given', () => {
    expect(loadIntentConfig({}).MOMA_AGENT_STATIC_PATH).toBeUndefined();
    expect(loadIntentConfig({ MOMA_AGENT_STATIC_PATH: '0.8' }).MOMA_AGENT_STATIC_PATH).toBe(0.8);
    for (const bad of ['x', '-1']) expect(() => loadIntentConfig({ MOMA_AGENT_STATIC_PATH: bad })).toThrow(/MOMA_AGENT_STATIC_PATH/);
  });
});
