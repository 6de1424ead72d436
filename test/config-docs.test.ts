// docs/configuration.md is generated from the services' zod schemas: a variable added, renamed or re-described
// without regenerating it fails here (run `pnpm docs:config`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, renderConfigDocs } from '../scripts/config-docs.ts';

describe('config docs', () => {
  it('config docs - docs/configuration.md is what the schemas generate, and every variable has a description', () => {
    const text = renderConfigDocs();
    expect(readFileSync(CONFIG_DOC, 'utf8'), 'docs/configuration.md is stale: run pnpm docs:config').toBe(text);
    const undocumented = text.split('\n').filter((l) => /^\| `[^`]+` \|.*\|  \|$/.test(l));
    expect(undocumented).toEqual([]);
    for (const v of ['GATEWAY_HEALTH_PORT', 'EXECUTOR_HEALTH_PORT', 'EXECUTOR_ADDR', 'MOMA_HEALTH_PORT', 'apiKeyEnv']) expect(text).toContain(`\`${v}\``);
  });
});
