// Reading an artifact directory from disk. The core decodes and validates; this file only does the I/O.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createLlmRouter, decodeArtifact, type Encoder, type RouterArtifact, warmTokenizer, type LlmRouter } from '@moma/core';
import { MomaError } from '@moma/platform';

let staticEncoder: Promise<Encoder> | undefined;

/**
 * The semantic encoder an artifact was trained with, when it has a `semantic` section: the static encoder of
 * @moma/semantic (its table read once per process, ~4 MB); imported only then, so a lexical artifact loads nothing.
 */
async function semanticEncoderFor(artifact: RouterArtifact): Promise<Encoder | undefined> {
  if (!artifact.semantic) return undefined;
  staticEncoder ??= import('@moma/semantic').then((m) => m.loadStaticEncoder());
  try {
    return await staticEncoder;
  } catch (err) {
    staticEncoder = undefined;
    throw MomaError.internal(`cannot load the semantic encoder ${artifact.semantic.id} the artifact needs: ${(err as Error).message}`);
  }
}

/** Loads `<dir>/manifest.json` + `<dir>/weights.bin` into a ready router; throws a MomaError naming what is wrong. */
export async function loadRouter(dir: string): Promise<LlmRouter> {
  // Pay the one-off costs (tokenizer ranks ~0.4 s, first-call compilation) here, not in the first request, which
  // would otherwise miss a caller's 2 s deadline on a busy machine. The tokenizer first: its tables built before the
  // artifact's buffers leave the process ~10 MB smaller than built after them.
  warmTokenizer();
  const abs = resolve(dir);
  let manifestText: string;
  let weights: Uint8Array;
  try {
    [manifestText, weights] = await Promise.all([
      readFile(join(abs, 'manifest.json'), 'utf8'),
      readFile(join(abs, 'weights.bin')),
    ]);
  } catch (err) {
    throw MomaError.notFound(`cannot read router artifact in ${abs}: ${(err as Error).message} (set MOMA_ARTIFACT_DIR to a directory with manifest.json and weights.bin)`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw MomaError.invalidArgument(`router artifact ${abs}/manifest.json is not JSON: ${(err as Error).message}`);
  }
  try {
    const artifact = decodeArtifact(manifest, weights);
    const semantic = await semanticEncoderFor(artifact);
    const router = createLlmRouter(artifact, semantic ? { semantic } : {});
    router.route({ text: 'warm up the router' }, { mode: 'balanced' });
    return router;
  } catch (err) {
    const e = MomaError.from(err);
    throw new MomaError(e.code, `router artifact ${abs}: ${e.message}`, { cause: err });
  }
}
