import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectNatsBus, MemoryBus, subscribeEvent, type Bus } from '@moma/platform';
import { Topics, type ArtifactPublished } from '@moma/proto';
import { prefixedBus as prefixed, testInfra, uniqueId } from '@moma/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPublish } from './publish.ts';

const DEFAULT_ARTIFACT = fileURLToPath(new URL('../../../artifacts/default', import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { env: { NATS_URL: 'nats://127.0.0.1:4222' }, out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('cli publish', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'moma-publish-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('publish - usage errors exit 2 with the usage text', async () => {
    const c = capture();
    expect(await runPublish([], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/--artifact DIR is required[\s\S]*usage: moma publish/);
    expect(await runPublish(['--bogus'], c.io)).toBe(2);
  });

  it('publish - refuses to guess a NATS: --nats or NATS_URL is required', async () => {
    const c = capture();
    let connected = false;
    const code = await runPublish(['--artifact', DEFAULT_ARTIFACT], { ...c.io, env: {}, connect: async () => ((connected = true), new MemoryBus()) });
    expect(code).toBe(2);
    expect(connected).toBe(false);
    expect(c.err.join('\n')).toMatch(/--nats URL, or NATS_URL/);
  });

  it('publish - an invalid artifact is refused before anything is published', async () => {
    const bad = join(tmp, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'manifest.json'), JSON.stringify({ format: 'moma-llm-router', formatVersion: 1 }));
    await writeFile(join(bad, 'weights.bin'), new Uint8Array(4));
    const c = capture();
    let connected = false;
    const code = await runPublish(['--artifact', bad], { ...c.io, connect: async () => ((connected = true), new MemoryBus()) });
    expect(code).toBe(1);
    expect(connected).toBe(false);
    expect(c.err.join('\n')).toMatch(/invalid artifact .*manifest is malformed/);
    expect(await runPublish(['--artifact', join(tmp, 'missing')], c.io)).toBe(1);
  });

  it('publish - announces the version and absolute path of a valid artifact', async () => {
    const bus = new MemoryBus();
    const seen: ArtifactPublished[] = [];
    await subscribeEvent(bus, Topics.artifact, (m) => void seen.push(m));
    const c = capture();
    const code = await runPublish(['--artifact', DEFAULT_ARTIFACT], { ...c.io, connect: async () => bus });
    expect(code).toBe(0);
    const version = JSON.parse(await readFile(join(DEFAULT_ARTIFACT, 'manifest.json'), 'utf8')).version;
    await expect.poll(() => seen).toEqual([{ version, path: DEFAULT_ARTIFACT }]);
    expect(c.out.join('\n')).toContain(`version ${version}`);
  });

  it('publish - NATS unreachable exits 1 naming the URL', async () => {
    const c = capture();
    const code = await runPublish(['--artifact', DEFAULT_ARTIFACT, '--nats', 'nats://127.0.0.1:1'], c.io);
    expect(code).toBe(1);
    expect(c.err.join('\n')).toContain('nats://127.0.0.1:1');
  });
});

const infra = await testInfra({ nats: true, redis: false });
describe.skipIf(!infra.ok)(`cli publish - real NATS${infra.ok ? '' : ` (skipped: ${infra.reason})`}`, () => {
  it('publish - the event reaches a subscriber over NATS', async () => {
    const prefix = uniqueId('publish');
    const listener = prefixed(await connectNatsBus({ url: infra.natsUrl, name: 'publish-test', useServices: false }), prefix);
    const seen: ArtifactPublished[] = [];
    await subscribeEvent(listener, Topics.artifact, (m) => void seen.push(m));
    try {
      const c = capture();
      const code = await runPublish(['--artifact', DEFAULT_ARTIFACT, '--nats', infra.natsUrl], {
        ...c.io,
        connect: async (url) => prefixed(await connectNatsBus({ url, name: 'moma-cli', useServices: false }), prefix),
      });
      expect(code, c.err.join('\n')).toBe(0);
      await expect.poll(() => seen.length).toBe(1);
      expect(seen[0]?.path).toBe(DEFAULT_ARTIFACT);
    } finally {
      await listener.close();
    }
  });
});
