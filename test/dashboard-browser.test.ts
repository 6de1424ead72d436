// The operator's dashboard (/ui) in a real browser: Debian's Chromium driven by playwright-core, against the
// distributed system (every service its own process on NATS and Redis) with API keys on. After routed requests
// (some through a failing model, so there are fallbacks and a breaker that counted failures), a session, an agent
// and client feedback, every panel shows them; the page has no script error and no CSP violation; without a key
// the page is 401 with a Basic challenge, with a key lacking the admin scope 403. The screenshot is kept in
// test/.artifacts/dashboard.png for a human to look at.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, testInfra, uniqueId, type FakeOpenAI } from '@moma/testkit';
import { artifactPrices, dropKeys, startSystem, type System } from './support/system.ts';

const CHROMIUM = '/usr/bin/chromium';
const infra = await testInfra();
const skip = !infra.ok ? infra.reason : !existsSync(CHROMIUM) ? `${CHROMIUM} not installed (Debian package chromium)` : undefined;
const ADMIN = `admin-${uniqueId()}-0123456789abcdef`;
const ARTIFACTS = fileURLToPath(new URL('./.artifacts/', import.meta.url));

describe.skipIf(skip !== undefined)(`dashboard - /ui in a real browser${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let fake: FakeOpenAI;
  let sys: System;
  let browser: Browser;
  const keyPrefix = `ui-${uniqueId()}:`;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ models: ['*'] });
    // The committed router's models at their artifact prices, so spend and savings have numbers.
    const prices = await artifactPrices();
    sys = await startSystem({
      natsUrl: infra.natsUrl,
      redisUrl: infra.redisUrl,
      keyPrefix,
      providers: [{ name: 'fake', baseUrl: fake.url, models: ['*'], prices }],
      env: { MOMA_ADMIN_KEY: ADMIN, MOMA_KEY_CACHE_MS: '200' },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: 30_000,
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
    if (infra.ok) await dropKeys(infra.redisUrl, keyPrefix);
    await fake?.close();
  });

  const api = (method: string, path: string, key: string, body?: unknown) =>
    fetch(`${sys.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  /** Opens /ui as a browser user whose password is `key` (HTTP Basic), waits for the first successful poll. */
  async function openDashboard(key: string): Promise<{ page: Page; errors: string[] }> {
    const context = await browser.newContext({ httpCredentials: { username: 'operator', password: key }, viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    });
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    const res = await page.goto(`${sys.httpUrl}/ui`, { waitUntil: 'load', timeout: 20_000 });
    expect(res?.status()).toBe(200);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    return { page, errors };
  }

  it('dashboard - without a key /ui is 401 with a Basic challenge; a key without the admin scope gets 403', async () => {
    // With no credentials to give, headless Chromium answers the Basic challenge by failing the navigation (a
    // desktop browser would ask for the password): the page is never rendered, and the response was the 401.
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    const [res, nav] = await Promise.all([
      page.waitForEvent('response', { predicate: (r) => r.url().endsWith('/ui'), timeout: 20_000 }),
      page.goto(`${sys.httpUrl}/ui`, { timeout: 20_000 }).then(() => 'rendered', (err: Error) => err.message),
    ]);
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toMatch(/^Basic realm="moma"/);
    expect(nav).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
    await anonymous.close();

    const made = await api('POST', '/v1/admin/keys', ADMIN, { tenant: 'acme', scopes: ['route'], name: 'route only' });
    expect(made.status).toBe(201);
    const { secret } = (await made.json()) as { secret: string };
    const routeOnly = await browser.newContext({ httpCredentials: { username: 'x', password: secret } });
    const denied = await (await routeOnly.newPage()).goto(`${sys.httpUrl}/ui`, { timeout: 20_000 });
    expect(denied?.status()).toBe(403);
    expect(await denied?.text()).toMatch(/admin/);
    // The data behind the page is refused the same way, so a page served from a cache shows nothing either.
    expect((await api('GET', '/v1/admin/dashboard', secret)).status).toBe(403);
    await routeOnly.close();
  });

  it('dashboard - after routed requests, a fallback, a session, an agent and feedback, every panel shows them', async () => {
    const client = new OpenAI({ baseURL: `${sys.httpUrl}/v1`, apiKey: ADMIN, maxRetries: 0 });
    const questions = ['What is the capital of France?', 'Write a haiku about the sea.', 'How do I reverse a list in Python?', 'Explain photosynthesis briefly.'];
    const served: string[] = [];
    const requestIds: string[] = [];
    for (const [i, q] of questions.entries()) {
      const { data, response } = await client.chat.completions
        .create({ model: 'moma/auto', messages: [{ role: 'user', content: q }], ...(i % 2 ? { moma: { mode: 'cost' } } : {}) } as OpenAI.ChatCompletionCreateParamsNonStreaming)
        .withResponse();
      served.push(data.model);
      requestIds.push(response.headers.get('x-moma-request-id')!);
    }
    expect(requestIds.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    // The model the first question went to starts failing: asking it again makes the executor fall back.
    fake.setFailing([served[0]!]);
    for (let i = 0; i < 3; i++) {
      const again = await client.chat.completions.create({ model: 'moma/auto', messages: [{ role: 'user', content: questions[0]! }] });
      expect(again.model).not.toBe(served[0]);
    }
    fake.setFailing([]);
    // A conversation of two turns.
    const sid = ((await (await api('POST', '/v1/sessions', ADMIN, {})).json()) as { session_id: string }).session_id;
    for (const q of ['I need help planning a trip to Lisbon.', 'What should I pack?']) {
      const res = await fetch(`${sys.httpUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'x-moma-session-id': sid },
        body: JSON.stringify({ messages: [{ role: 'user', content: q }] }),
      });
      expect(res.status).toBe(200);
    }
    // An agent (its URL answers nothing, so it shows as unhealthy once probed) and feedback on two answers.
    const agent = await api('POST', '/v1/agents', ADMIN, {
      card: { name: 'Weather desk', url: 'http://127.0.0.1:9/a2a', description: 'Forecasts and current weather', skills: [{ id: 'forecast', name: 'forecast', examples: ['weather in Paris tomorrow'] }] },
    });
    expect(agent.status, await agent.clone().text()).toBeLessThan(300);
    for (const [i, id] of requestIds.slice(0, 2).entries()) {
      const fb = await api('POST', '/v1/feedback', ADMIN, { request_id: id, score: i === 0 ? 0.9 : 0.4 });
      expect(fb.status).toBe(202);
    }

    const { page, errors } = await openDashboard(ADMIN);
    const text = (selector: string) => page.locator(selector).innerText();
    const svgText = async (selector: string) => (await page.locator(selector).textContent()) ?? '';
    // Usage events reach the gateway's window asynchronously: wait (bounded) for the page to count them all.
    const total = questions.length + 3 + 2;
    await expect.poll(async () => Number((await text('#kpi-requests')).replace(/\D/g, '')), { timeout: 20_000, interval: 250 }).toBeGreaterThanOrEqual(total);
    await expect.poll(() => text('#quality-note'), { timeout: 20_000, interval: 250 }).toMatch(/^2 scored answers/);

    // Savings: what was spent and what the best single model would have cost, both in dollars.
    expect(await text('#kpi-spent')).toMatch(/^\$\d/);
    expect(await text('#kpi-baseline')).toMatch(/^\$\d/);
    expect(await text('#kpi-best-model')).toMatch(/^all to \S+/);
    expect(await text('#kpi-saved')).toMatch(/\$/);
    expect(await text('#kpi-failed')).toMatch(/with a fallback/);
    expect(Number((await text('#kpi-failed')).match(/(\d+) with a fallback/)?.[1])).toBeGreaterThanOrEqual(3);
    // Decisions per second by target: bars and a legend naming the models that answered.
    expect(await page.locator('#chart-decisions rect').count()).toBeGreaterThan(0);
    for (const m of new Set(served)) expect(await text('#legend-decisions')).toContain(m);
    // The front of the loaded router with the modes marked.
    expect(await page.locator('#chart-front circle').count()).toBeGreaterThan(1);
    expect(await page.locator('#chart-front polyline.front').count()).toBe(1);
    expect(await page.locator('#chart-front text.mode').allTextContents()).toEqual(expect.arrayContaining(['balanced']));
    expect(await text('#front-note')).toMatch(/\d+ models, \d+ on the front; best single model \S+/);
    // Predicted vs observed quality from the two feedbacks.
    expect(await page.locator('#chart-quality circle').count()).toBe(2);
    // Latency percentiles for end to end and the decision.
    expect(await text('#table-latency tbody')).toMatch(/end to end\s+[\d.]+ ms/);
    expect(await text('#table-latency tbody')).toMatch(/decision\s+[\d.]+ ms/);
    expect(await text('#modes')).toMatch(/cost: \d+/);
    // The failing model: its breaker counted failures, and it is listed as left for a fallback.
    expect(await text('#table-providers tbody')).toContain(served[0]!);
    expect(await text('#table-fallbacks tbody')).toContain(served[0]!);
    // The agent and the session with its FSM state.
    expect(await text('#table-agents tbody')).toContain('Weather desk');
    expect(await text('#table-sessions tbody')).toContain(sid.slice(0, 8));
    expect(await text('#table-sessions tbody')).toMatch(new RegExp(`${sid.slice(0, 8)}\\s+\\S+\\s+\\S+\\s+2\\b`));
    expect(await text('#status')).toMatch(/^updated /);

    // Every panel is on the page with a real size, and the page said nothing was wrong (a CSP violation is a console error).
    for (const panel of ['savings', 'decisions', 'front', 'quality', 'latency', 'providers', 'agents', 'sessions']) {
      const box = await page.locator(`[data-panel="${panel}"]`).boundingBox();
      expect(box, panel).not.toBeNull();
      expect(box!.width * box!.height, panel).toBeGreaterThan(10_000);
    }
    expect(errors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(30_000);
    await page.context().close();
  });
});
