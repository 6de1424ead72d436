// A real Prometheus (Debian's package) scrapes the five services of a running distributed system and answers PromQL
// over its HTTP API: every target is up, and the moma_ families a dashboard or an alert reads are there with the
// values of the requests sent. Skipped, with the reason, where /usr/bin/prometheus is not installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { artifactPrices, freePort, SERVICES, startSystemOnPrivateNats, type System } from './support/system.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const infra = await testInfra();
const skip = !infra.ok ? infra.reason : existsSync(PROMETHEUS) ? undefined : `${PROMETHEUS} not installed (apt-get install prometheus)`;

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

describe.skipIf(skip !== undefined)(`prometheus - a real Prometheus scrapes every service${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';
  const promLog: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${promUrl}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  const query = (q: string) => api<{ result: Vector[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`).then((d) => d.result);

  /** Polls `fn` until it returns a value (bounded: 40 tries, 0.5 s apart). */
  async function eventually<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
    let last: unknown;
    for (let i = 0; i < 40; i++) {
      try {
        const v = await fn();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${what} did not happen within 20 s${last ? `: ${String(last)}` : ''}\n${promLog.slice(-20).join('\n')}`);
  }

  beforeAll(async () => {
    fake = await startFakeOpenAI({ models: ['*'] });
    // The committed router's models at their artifact prices, so the cost families have something to add up.
    const prices = await artifactPrices();
    sys = await startSystemOnPrivateNats({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix: `prom-${uniqueId()}:`,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'], prices }],
    });
    dir = mkdtempSync(join(tmpdir(), 'moma-prom-'));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const targets = SERVICES.map((name) => `      - targets: ['${new URL(sys.healthUrls[name]).host}']\n        labels: { component: '${name}' }`).join('\n');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: moma\n    static_configs:\n${targets}\n`,
    );
    prom = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [prom.stdout!, prom.stderr!]) s.on('data', (b: Buffer) => promLog.push(...b.toString().split('\n').filter(Boolean)));
    await eventually('prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    await sys?.stop();
    await fake?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prometheus - every stage is up, and decisions, tokens, cost, latency and stage calls are queryable', async () => {
    const client = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const questions = ['What is the capital of France?', 'Write a haiku about the sea.', 'How do I sort a list in Python?'];
    for (const q of questions) {
      const r = await client.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: q }] });
      expect(r.choices[0]?.message.content).toBeTruthy();
    }
    const stream = await client.chat.completions.create({ model: 'moma/auto', stream: true, messages: [{ role: 'user', content: 'Count to five.' }] });
    for await (const _ of stream) void _;
    // One request Prometheus must count as an error of the openai door.
    await expect(client.chat.completions.create({ model: 'moma/auto', messages: [] })).rejects.toMatchObject({ status: 400 });

    const targets = await eventually('all five targets up', async () => {
      const t = await api<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('/api/v1/targets');
      return t.activeTargets.length === SERVICES.length && t.activeTargets.every((x) => x.health === 'up') ? t.activeTargets : undefined;
    });
    expect(targets.map((t) => t.labels.component).sort()).toEqual([...SERVICES].sort());

    const sum = (v: Vector[]) => v.reduce((a, x) => a + Number(x.value[1]), 0);
    const decisions = await eventually('decisions scraped', async () => {
      const v = await query('sum by (target_kind, mode, reason) (moma_decisions_total)');
      return sum(v) >= questions.length + 1 ? v : undefined;
    });
    expect(decisions.every((d) => d.metric.target_kind === 'llm' && d.metric.mode && d.metric.reason)).toBe(true);

    const tokens = await eventually('tokens scraped', async () => {
      const v = await query('sum by (direction) (moma_tokens_total{tenant!=""})');
      return v.length === 2 ? v : undefined;
    });
    for (const t of tokens) expect(Number(t.value[1]), `${t.metric.direction} tokens`).toBeGreaterThan(0);
    const cost = await query('sum(moma_cost_usd_total)');
    expect(Number(cost[0]?.value[1] ?? 0), 'USD at the configured prices').toBeGreaterThan(0);

    const errors = await query('sum by (door, status) (moma_gateway_requests_total{route="/v1/chat/completions"})');
    expect(errors.find((e) => e.metric.status === '400' && e.metric.door === 'openai')?.value[1]).toBe('1');
    expect(Number(errors.find((e) => e.metric.status === '200')?.value[1])).toBe(questions.length + 1);

    // A percentile as a dashboard computes it (over the counts so far: a rate needs two scrapes after the requests).
    const p99 = await query('histogram_quantile(0.99, sum by (le) (moma_decision_duration_seconds_bucket))');
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
    const stageCalls = await query('sum by (stage) (moma_stage_request_duration_seconds_count{service="gateway"})');
    expect(stageCalls.map((s) => s.metric.stage).sort()).toEqual(expect.arrayContaining(['intent', 'orchestrator', 'scoring']));
    const ttft = await query('sum(moma_time_to_first_token_seconds_count)');
    expect(Number(ttft[0]?.value[1]), 'the streamed answer is timed to its first token').toBeGreaterThanOrEqual(1);
    const upstream = await query('sum by (provider, outcome) (moma_upstream_requests_total)');
    expect(upstream.find((u) => u.metric.provider === 'fake' && u.metric.outcome === 'ok')).toBeDefined();
    const breaker = await query('max(moma_circuit_breaker_state{provider="fake"})');
    expect(breaker[0]?.value[1], 'breaker closed').toBe('0');
    expect((await query('moma_executor_inflight_requests')).length).toBe(1);
    expect((await query('sum(moma_scores_total)')).length).toBe(1);
    expect((await query('moma_router_info')).length).toBe(1);
    expect((await query('sum(moma_intent_classifications_total)')).length).toBe(1);
  });

  it('prometheus - unknown parameters on /metrics are harmless', async () => {
    const res = await fetch(`${sys.healthUrls.gateway}/metrics?name[]=nope&foo=bar`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('moma_gateway_requests_total');
  });
});
