import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeArtifact, encodeArtifact, type RouterArtifact } from '@moma/core';

/** Writes `<dir>/manifest.json` + `<dir>/weights.bin`. */
export function writeArtifactDir(dir: string, artifact: RouterArtifact): { manifestPath: string; bytes: number } {
  const { manifest, weights } = encodeArtifact(artifact);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'weights.bin'), weights);
  const manifestPath = path.join(dir, 'manifest.json');
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifestPath, bytes: weights.byteLength };
}

export function readArtifactDir(dir: string): RouterArtifact {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as unknown;
  return decodeArtifact(manifest, new Uint8Array(readFileSync(path.join(dir, 'weights.bin'))));
}
