import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AgentSpec } from '@moma/core';
import { buildServingIndex, liveFitWorkers } from './index-host.ts';
import { BANK, WEATHER, testAgent } from './test-support.ts';

const MUSIC = testAgent('music-bot', 'Music: play songs, albums and playlists', ['play some jazz', 'put on my workout playlist', 'skip this song']);
const agents = [WEATHER, BANK, MUSIC] as unknown as AgentSpec[];

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('intent index host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moma-index-host-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('intent index host - a fit in a worker is served from this thread once the worker has exited; the same inputs load the saved fit', async () => {
    const fitted = await buildServingIndex(agents, undefined, {}, 'worker', { dir });
    expect(fitted.loaded).toBe(false);
    await until(() => liveFitWorkers() === 0);
    expect(liveFitWorkers()).toBe(0);
    expect((await fitted.classify('will it rain in Paris tomorrow', [], 3)).candidates[0]?.agentId).toBe('weather-bot');
    expect((await fitted.classify('transfer 50 euros to my savings account', [], 3)).candidates[0]?.agentId).toBe('bank-helper');
    expect(readdirSync(dir).filter((f) => f.endsWith('.agent-index'))).toHaveLength(1);
    // a second build of the same inputs loads the file: no worker at all
    const loaded = await buildServingIndex(agents, undefined, {}, 'worker', { dir });
    expect(loaded.loaded).toBe(true);
    expect(liveFitWorkers()).toBe(0);
    for (const q of ['will it rain in Paris tomorrow', 'skip this song', 'my debit card was declined']) {
      expect(await loaded.classify(q, [], 3)).toEqual(await fitted.classify(q, [], 3));
    }
  });

  it('intent index host - an inline fit serves at once and is saved, so the next build loads it', async () => {
    const inlineDir = mkdtempSync(join(tmpdir(), 'moma-index-inline-'));
    try {
      const fitted = await buildServingIndex(agents, undefined, {}, 'inline', { dir: inlineDir });
      expect(fitted.loaded).toBe(false);
      expect(liveFitWorkers()).toBe(0);
      expect(readdirSync(inlineDir).filter((f) => f.endsWith('.agent-index'))).toHaveLength(1);
      const loaded = await buildServingIndex(agents, undefined, {}, 'inline', { dir: inlineDir });
      expect(loaded.loaded).toBe(true);
      for (const q of ['will it rain in Paris tomorrow', 'skip this song', 'my debit card was declined']) {
        expect(await loaded.classify(q, [], 3)).toEqual(await fitted.classify(q, [], 3));
      }
    } finally {
      rmSync(inlineDir, { recursive: true, force: true });
    }
  });

  it('intent index host - serving options (threshold, fast path) load the saved fit and apply to it; a fit option refits', async () => {
    const optsDir = mkdtempSync(join(tmpdir(), 'moma-index-opts-'));
    try {
      const first = await buildServingIndex(agents, undefined, {}, 'inline', { dir: optsDir });
      expect(first.loaded).toBe(false);
      // a threshold no agent reaches: the same fit, loaded, now rejects what it accepted
      const strict = await buildServingIndex(agents, undefined, { threshold: 0.99, fastPath: 0.9 }, 'inline', { dir: optsDir });
      expect(strict.loaded).toBe(true);
      const q = 'will it rain in Paris tomorrow';
      const before = await first.classify(q, [], 3);
      const after = await strict.classify(q, [], 3);
      expect(before.inScope).toBe(true);
      expect(after.inScope).toBe(false);
      expect(after.threshold).toBe(0.99);
      expect(after.candidates.map((c) => c.agentId)).toEqual(before.candidates.map((c) => c.agentId));
      expect(readdirSync(optsDir).filter((f) => f.endsWith('.agent-index'))).toHaveLength(1);
      // the head's options change what is fitted: a new fit, saved beside the first
      const other = await buildServingIndex(agents, undefined, { head: { epochs: 3 } }, 'inline', { dir: optsDir });
      expect(other.loaded).toBe(false);
      expect(readdirSync(optsDir).filter((f) => f.endsWith('.agent-index'))).toHaveLength(2);
    } finally {
      rmSync(optsDir, { recursive: true, force: true });
    }
  });

  it("intent index host - a fit that fails in the worker rejects with the worker's error and leaves no worker behind", async () => {
    const dup = [WEATHER, WEATHER] as unknown as AgentSpec[];
    await expect(buildServingIndex(dup, undefined, {}, 'worker')).rejects.toThrow(/weather-bot/);
    await until(() => liveFitWorkers() === 0);
    expect(liveFitWorkers()).toBe(0);
  });
});
