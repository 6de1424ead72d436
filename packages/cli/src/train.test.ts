// moma train refuses an artifact name that is not a plain folder name (it is the default folder and starts the
// router version, which goes into a response header), before it reads or writes anything.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runTrain } from './train.ts';

describe('moma train - --name', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(['../escape', 'météo', '', '-dash-first', 'a/b', 'x'.repeat(65)])('train - --name %j exits 2 naming the rule', async (name) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await runTrain(['--data', 'no-such-file.jsonl', `--name=${name}`, '--quiet'])).toBe(2);
    expect(err.mock.calls.flat().join('\n')).toContain('--name must be 1–64 letters, digits');
    expect(existsSync('escape')).toBe(false);
  });
});
