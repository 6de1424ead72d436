import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Bad input (unknown option, missing path, wrong split, unreadable data): the CLI reports the message and exits with 2. */
export class EvalInputError extends Error {
  override readonly name = 'EvalInputError';
}

/** Reads a JSON file, gunzipping it first when it starts with the gzip magic bytes (whatever its name). */
export function readJsonFile(path: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EvalInputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let text: string;
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (e) {
    throw new EvalInputError(`${path}: not a valid gzip file (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EvalInputError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}
