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
  /**
   * The state machine's turnMargin: an agent that the user's turn alone (scored without the earlier turns) ranks
   * this much above the agent holding the conversation takes over, as a new task ("and book me a cab there").
   * Fitted on SGD train: 0.1 took service-change turns on SGD dev from 64% to 79%. Above 1 = off.
   */
  MOMA_AGENT_TURN_MARGIN: z.coerce.number().min(0).default(0.1),
  /** How often to check the registry version in case an announcement was missed; 0 = never. */
  MOMA_REGISTRY_RESYNC_MS: envInt(30_000),
});

export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema>;

export function loadOrchestratorConfig(env: Env = process.env): Readonly<OrchestratorConfig> {
  return loadConfig(orchestratorConfigSchema, withServiceHealthPort(env, 'orchestrator'));
}
