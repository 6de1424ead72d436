import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@moma/platform';
import { loadExecutorConfig, parseProviders } from './config.ts';
import { ProviderRegistry } from './providers.ts';
import { costUsd, estimatePromptTokens } from './accounting.ts';

const providers = [
  { name: 'a', baseUrl: 'http://127.0.0.1:1/v1/', apiKeyEnv: 'A_KEY', models: ['m1', 'm2'], modelMap: { m2: 'vendor-m2' }, prices: { m1: { input: 1, output: 4 } } },
  { name: 'b', baseUrl: 'http://127.0.0.1:2/v1', apiKey: 'inline', models: ['*', 'm1'] },
];

describe('executor config', () => {
  it('executor config - reads providers from MOMA_PROVIDERS and resolves keys named by apiKeyEnv', () => {
    const c = loadExecutorConfig({ MOMA_PROVIDERS: JSON.stringify(providers), A_KEY: 'secret' });
    expect(c.port).toBe(50052);
    expect(c.providers.map((p) => [p.name, p.apiKey, p.baseUrl])).toEqual([
      ['a', 'secret', 'http://127.0.0.1:1/v1'],
      ['b', 'inline', 'http://127.0.0.1:2/v1'],
    ]);
  });

  it('executor config - reads MOMA_PROVIDERS_FILE and EXECUTOR_GRPC_PORT', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moma-exec-'));
    const file = join(dir, 'providers.json');
    writeFileSync(file, JSON.stringify(providers));
    const c = loadExecutorConfig({ MOMA_PROVIDERS_FILE: file, EXECUTOR_GRPC_PORT: '0', A_KEY: 'secret' });
    expect(c.port).toBe(0);
    expect(c.providers).toHaveLength(2);
  });

  it('executor config - the error policy: attempt cap, request deadline, first-byte and total timeouts, breaker', () => {
    const d = loadExecutorConfig({ OPENAI_API_KEY: 'k' });
    expect(d).toMatchObject({ maxAttempts: 3, requestTimeoutMs: 60_000, firstTokenTimeoutMs: 15_000, totalTimeoutMs: 60_000, breaker: { failures: 5, cooldownMs: 30_000, cacheMs: 1_000 } });
    const c = loadExecutorConfig({
      OPENAI_API_KEY: 'k',
      MOMA_MAX_ATTEMPTS: '5',
      EXECUTOR_REQUEST_TIMEOUT_MS: '90000',
      EXECUTOR_TOTAL_TIMEOUT_MS: '45000',
      MOMA_BREAKER_FAILURES: '2',
      MOMA_BREAKER_COOLDOWN_MS: '10000',
      MOMA_BREAKER_CACHE_MS: '0',
    });
    expect(c).toMatchObject({ maxAttempts: 5, requestTimeoutMs: 90_000, totalTimeoutMs: 45_000, breaker: { failures: 2, cooldownMs: 10_000, cacheMs: 0 } });
  });

  it('executor config - defaults to one catch-all provider at OPENAI_BASE_URL with OPENAI_API_KEY', () => {
    const c = loadExecutorConfig({ OPENAI_BASE_URL: 'http://localhost:11434/v1', OPENAI_API_KEY: 'k' });
    expect(c.providers).toEqual([expect.objectContaining({ baseUrl: 'http://localhost:11434/v1', apiKey: 'k', models: ['*'] })]);
  });

  it('executor config - a provider that needs no key says so by naming none; a local OPENAI_BASE_URL needs none', () => {
    const c = loadExecutorConfig({ MOMA_PROVIDERS: JSON.stringify([{ name: 'vllm', baseUrl: 'http://127.0.0.1:8000/v1', models: ['*'] }]) });
    expect(c.providers[0]!.name).toBe('vllm');
    expect(loadExecutorConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).providers).toHaveLength(1);
  });

  it('executor config - a key variable that is named but not set fails at start, naming it (never a 401 later)', () => {
    let err: ConfigError | undefined;
    try {
      loadExecutorConfig({ MOMA_PROVIDERS: JSON.stringify(providers), A_KEY: '' });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/provider "a" takes its API key from A_KEY, which is not set/);
    expect(err!.variables).toEqual(['A_KEY']);
    expect(() => loadExecutorConfig({})).toThrow(/OPENAI_API_KEY, which is not set/);
  });

  it.each([
    [{ MOMA_PROVIDERS: JSON.stringify([{ name: 'x', baseUrl: 'http://h/v1', models: ['*'], apikey: 'k' }]) }, /0: Unrecognized key: "apikey" \(known keys: name, baseUrl, apiKey, apiKeyEnv, models/],
    [{ MOMA_PROVIDERS: JSON.stringify([{ name: 'x', baseUrl: 'http://h/v1', models: ['m'], prices: { m: { input: 1, outptu: 2 } } }]) }, /0\.prices\.m: .*"outptu".*known keys: input, output/],
    [{ MOMA_PROVIDERS: '{oops' }, /MOMA_PROVIDERS: not valid JSON/],
    [{ MOMA_PROVIDERS: '[]' }, /at least one provider/],
    [{ MOMA_PROVIDERS: JSON.stringify([{ name: 'x', baseUrl: 'nope', models: ['*'] }]) }, /0\.baseUrl: must be an absolute URL/],
    [{ MOMA_PROVIDERS: JSON.stringify([{ name: 'x', baseUrl: 'http://h/v1', models: [] }]) }, /0\.models/],
    [{ MOMA_PROVIDERS: JSON.stringify([providers[1], providers[1]]) }, /duplicate provider name "b"/],
    [{ MOMA_PROVIDERS_FILE: '/nonexistent/providers.json' }, /cannot read/],
    [{ MOMA_AGENTS: '{"weather": 3}', OPENAI_API_KEY: 'k' }, /MOMA_AGENTS/],
    [{ EXECUTOR_GRPC_PORT: 'abc' }, /EXECUTOR_GRPC_PORT/],
    [{ MOMA_MAX_ATTEMPTS: '0' }, /MOMA_MAX_ATTEMPTS/],
    [{ EXECUTOR_REQUEST_TIMEOUT_MS: 'soon' }, /EXECUTOR_REQUEST_TIMEOUT_MS/],
    [{ MOMA_BREAKER_COOLDOWN_MS: '-1' }, /MOMA_BREAKER_COOLDOWN_MS/],
  ])('executor config - refuses bad input %j with a message naming the variable', (env, message) => {
    expect(() => loadExecutorConfig(env)).toThrow(ConfigError);
    expect(() => loadExecutorConfig(env)).toThrow(message);
  });
});

describe('executor providers', () => {
  const registry = new ProviderRegistry(loadExecutorConfig({ MOMA_PROVIDERS: JSON.stringify(providers), A_KEY: 'secret' }).providers, { timeoutMs: 1000 });

  it('executor providers - a model has every provider serving it as deployments: exact listings first, then the catch-alls', () => {
    // b lists m1 both exactly and with "*": it counts once, after a (config order among the exact listings).
    expect(registry.resolve('m1').map((d) => d.provider)).toEqual(['a', 'b']);
    expect(registry.resolve('m2').map((d) => [d.provider, d.upstreamModel])).toEqual([
      ['a', 'vendor-m2'],
      ['b', 'm2'],
    ]);
    expect(registry.resolve('other')).toEqual([expect.objectContaining({ provider: 'b', model: 'other', upstreamModel: 'other', price: { input: 0, output: 0 } })]);
    expect(registry.resolve('m1')[0]?.client).toBe(registry.resolve('m2')[0]?.client);
    expect(registry.resolve('m1')).toBe(registry.resolve('m1'));
  });

  it('executor providers - exact listings keep the order of MOMA_PROVIDERS, and "*" providers follow in theirs', () => {
    const many = new ProviderRegistry(
      parseProviders(
        [
          { name: 'any1', baseUrl: 'http://127.0.0.1:1/v1', models: ['*'] },
          { name: 'x', baseUrl: 'http://127.0.0.1:2/v1', models: ['m'] },
          { name: 'any2', baseUrl: 'http://127.0.0.1:3/v1', models: ['*'] },
          { name: 'y', baseUrl: 'http://127.0.0.1:4/v1', models: ['m'] },
        ],
        {},
      ),
      { timeoutMs: 1000 },
    );
    expect(many.resolve('m').map((d) => d.provider)).toEqual(['x', 'y', 'any1', 'any2']);
    expect(many.resolve('n').map((d) => d.provider)).toEqual(['any1', 'any2']);
  });

  it('executor providers - no provider for a model without a catch-all', () => {
    const only = new ProviderRegistry(loadExecutorConfig({ MOMA_PROVIDERS: JSON.stringify([providers[0]]), A_KEY: 'secret' }).providers, { timeoutMs: 1000 });
    expect(only.resolve('unknown')).toEqual([]);
  });

  it('executor accounting - prices per 1M tokens and estimates prompts at ~4 chars per token', () => {
    expect(costUsd(1_000_000, 500_000, { input: 1, output: 4 })).toBeCloseTo(3, 12);
    expect(estimatePromptTokens([{ content: 'abcdefgh' }, { content: 'a' }])).toBe(2 + 4 + 1 + 4);
  });
});
