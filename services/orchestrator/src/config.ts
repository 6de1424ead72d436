// The orchestrator's settings; the only reader of process.env in this service.
import { commonConfigSchema, envInt, envPort, loadConfig, type Env, serviceHealthPort, withServiceHealthPort } from '@moma/platform';
import { parseAllowList } from './card-fetch.ts';
import { z } from 'zod';

export const orchestratorConfigSchema = commonConfigSchema.extend({
  HEALTH_PORT: envPort(9102),
  ...serviceHealthPort('orchestrator', 9102),
  /** Deadline for fetching an agent card at registration (<url>/.well-known/agent-card.json). */
  AGENT_CARD_TIMEOUT_MS: envInt(5000, { min: 1 }),
  /** Turns kept per session; older ones are dropped so a session's Redis value stays bounded. */
  SESSION_MAX_MESSAGES: envInt(200, { min: 2 }),
  /**
   * Addresses or CIDRs card_url may be fetched from although they are loopback, private or link-local (denied by
   * default), comma-separated: e.g. `10.0.0.0/8` for agents inside the cluster, `127.0.0.1/32` for local agents.
   */
  MOMA_CARD_FETCH_ALLOW: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseAllowList(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** How often to check the registry version in case an announcement was missed; 0 = never. */
  MOMA_REGISTRY_RESYNC_MS: envInt(30_000),
});

export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema>;

export function loadOrchestratorConfig(env: Env = process.env): Readonly<OrchestratorConfig> {
  return loadConfig(orchestratorConfigSchema, withServiceHealthPort(env, 'orchestrator'));
}
