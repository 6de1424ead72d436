import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonConfigSchema, envPort, loadCommonConfig, loadConfig } from './config.ts';

describe('config', () => {
  it('config - defaults apply when variables are unset or empty', () => {
    const c = loadCommonConfig({ LOG_LEVEL: '' });
    expect(c).toMatchObject({ NATS_REQUEST_TIMEOUT_MS: 2000, SESSION_TTL_SECONDS: 86_400, LOG_LEVEL: 'info', HEALTH_PORT: 0 });
    expect(c.NATS_URL).toBeUndefined();
    expect(c.REDIS_URL).toBeUndefined();
  });

  it('config - values are parsed and the result is frozen', () => {
    const c = loadCommonConfig({ NATS_URL: 'nats://n:4222', REDIS_URL: 'redis://r:6379', NATS_REQUEST_TIMEOUT_MS: '150' });
    expect(c.NATS_REQUEST_TIMEOUT_MS).toBe(150);
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { NATS_URL?: string }).NATS_URL = 'x';
    }).toThrow();
  });

  it('config - a bad value fails at boot naming the variable to set', () => {
    const err = (() => {
      try {
        loadCommonConfig({ NATS_REQUEST_TIMEOUT_MS: 'soon', REDIS_URL: 'http://wrong', LOG_LEVEL: 'loud' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variables.sort()).toEqual(['LOG_LEVEL', 'NATS_REQUEST_TIMEOUT_MS', 'REDIS_URL']);
    expect((err as Error).message).toContain('set NATS_REQUEST_TIMEOUT_MS');
    expect((err as Error).message).toContain('"soon"');
  });

  it('config - services extend the common schema with their own variables', () => {
    const schema = commonConfigSchema.extend({ GATEWAY_HTTP_PORT: envPort(8080), PROVIDERS_FILE: z.string() });
    expect(loadConfig(schema, { PROVIDERS_FILE: 'p.json' }).GATEWAY_HTTP_PORT).toBe(8080);
    expect(() => loadConfig(schema, {})).toThrow(/PROVIDERS_FILE.*set PROVIDERS_FILE/);
    expect(() => loadConfig(schema, { PROVIDERS_FILE: 'p', GATEWAY_HTTP_PORT: '70000' })).toThrow(/GATEWAY_HTTP_PORT/);
  });
});
