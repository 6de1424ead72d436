// `moma publish --artifact DIR [--nats URL]`: validates a router artifact and announces it on moma.events.artifact,
// so every scoring instance loads it without a restart (the scoring stage reads DIR itself: it must be a path the
// scoring instances can see, e.g. a shared volume).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createLlmRouter, decodeArtifact } from '@moma/core';
import { semanticEncoderFor } from './llm/encoders.ts';
import { connectNatsBus, MomaError, publishEvent, type Bus } from '@moma/platform';
import { Topics } from '@moma/proto';

const USAGE = `usage: moma publish --artifact DIR [--nats URL]

Validates the router artifact in DIR (manifest.json + weights.bin) and publishes ArtifactPublished on
${Topics.artifact.subject}; scoring instances swap to it without a restart.
  --artifact DIR   artifact directory (as the scoring instances see it)
  --nats URL       NATS server of the deployment (default: $NATS_URL, the services' own setting; one of
                   the two is required: a guessed default could announce to someone else's NATS)`;

export interface PublishIo {
  env?: Record<string, string | undefined>;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Opens the bus to publish on (tests); default a NATS connection to `url`. */
  connect?: (url: string) => Promise<Bus>;
}

/** Reads and fully decodes the artifact (the same checks the scoring stage applies); returns its version. */
export async function validateArtifactDir(dir: string): Promise<{ version: string; models: number }> {
  const [manifestText, weights] = await Promise.all([readFile(join(dir, 'manifest.json'), 'utf8'), readFile(join(dir, 'weights.bin'))]);
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw new Error(`${join(dir, 'manifest.json')} is not JSON: ${(err as Error).message}`);
  }
  const artifact = decodeArtifact(manifest, weights);
  const semantic = await semanticEncoderFor(artifact);
  const router = createLlmRouter(artifact, semantic ? { semantic } : {});
  return { version: router.version, models: router.models.length };
}

/** Exit code: 0 published, 1 failed (invalid artifact, NATS unreachable), 2 usage error. */
export async function runPublish(argv: string[], io: PublishIo = {}): Promise<number> {
  const out = io.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = io.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const env = io.env ?? process.env;
  let values: { artifact?: string | undefined; nats?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { artifact: { type: 'string' }, nats: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (e) {
    err(`moma publish: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (!values.artifact) {
    err(`moma publish: --artifact DIR is required\n${USAGE}`);
    return 2;
  }
  const url = values.nats || env.NATS_URL;
  if (!url) {
    err(`moma publish: say which NATS to announce on: --nats URL, or NATS_URL as the services have it\n${USAGE}`);
    return 2;
  }
  const dir = resolve(values.artifact);
  let version: string;
  try {
    const info = await validateArtifactDir(dir);
    version = info.version;
    out(`artifact ${dir}: version ${version}, ${info.models} models — valid`);
  } catch (e) {
    err(`moma publish: invalid artifact in ${dir}: ${(e as Error).message}`);
    return 1;
  }
  try {
    const bus = await (io.connect ?? ((u: string) => connectNatsBus({ url: u, name: 'moma-cli', useServices: false })))(url);
    try {
      await publishEvent(bus, Topics.artifact, { version, path: dir });
    } finally {
      await bus.close();
    }
  } catch (e) {
    err(`moma publish: cannot publish to NATS at ${url}: ${MomaError.from(e).message} (pass --nats URL or set NATS_URL)`);
    return 1;
  }
  out(`published ${Topics.artifact.subject} {version: ${version}, path: ${dir}}`);
  return 0;
}
