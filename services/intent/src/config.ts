// The intent service's settings; the only reader of process.env in this service.
import { commonConfigSchema, envInt, envPort, loadConfig, type Env, serviceHealthPort, withServiceHealthPort } from '@moma/platform';
import { z } from 'zod';

export const intentConfigSchema = commonConfigSchema.extend({
  /** Top-down taxonomy (JSON, see config/README.md); unset = bottom-up clusters of the agents' skills only. */
  MOMA_TAXONOMY_FILE: z.string().optional(),
  HEALTH_PORT: envPort(9101),
  ...serviceHealthPort('intent', 9101),
  /**
   * From this many agents on, the index is fitted in a worker thread that exits once the fit is done: fitting takes
   * seconds for ~150 agents and must not stall requests, while a small index fits in milliseconds. 0 = always a worker.
   */
  MOMA_INTENT_WORKER_MIN_AGENTS: envInt(32),
  /**
   * `use` (default): agent routing also uses the Universal Sentence Encoder (loaded from the installed package,
   * offline): a lexical expert answers the queries it is sure of, the semantic expert the others (CLINC150 test 94.9%
   * against 92.5% lexical; see docs/agent-routing.md). `lexical`: hashed n-grams only (about 0.3 ms per decision,
   * ~75 MB less memory).
   */
  MOMA_AGENT_ENCODER: z.enum(['lexical', 'use']).default('use'),
  /**
   * With `use`: the lexical expert's top probability from which it answers alone, without the encoder (unset = the
   * index's 0.7; above 1 = every query through both experts: CLINC150 test 95.0% instead of 94.9%, and every query
   * pays the encoder, about 5 ms, instead of a quarter of them).
   */
  MOMA_AGENT_FAST_PATH: z.coerce.number().min(0).optional(),
  /**
   * With `use`: the lexical pass's best agent score under which a query is out of scope without the encoder (unset =
   * the index's 0.1 over cards with ≥ 10 texts per agent, off over fewer; 0 = off). Lower it for many agents with few
   * examples each (150 × 20: 8.7% of in-scope questions fall under 0.1; docs/agent-routing.md).
   */
  MOMA_AGENT_FAST_REJECT: z.coerce.number().min(0).lt(1).optional(),
  /**
   * With `use`: turns on the middle path, the lexical expert with the encoder's static distillation (a 4 MB table,
   * about 0.05 ms a query), which answers without the full encoder from this best agent score (0.8 is the index's
   * default; unset or above 1 = off). CLINC150, 30 intents × 20 examples: 61.5% of the test questions skip the
   * encoder instead of 53.3%, at the same accuracy; over all 150 intents 76.2% instead of 73.9%, 0.1 point lower;
   * 5–7 MB more resident memory with 150 agents and about 2 s more index fit (docs/agent-routing.md).
   */
  MOMA_AGENT_STATIC_PATH: z.coerce.number().min(0).optional(),
  /** Directory where fitted agent indexes are saved, so an instance that starts with the same agents loads one. */
  MOMA_AGENT_INDEX_DIR: z.string().optional(),
  /** How often to check the registry version in case an announcement was missed; 0 = never. */
  MOMA_REGISTRY_RESYNC_MS: envInt(30_000),
});

export type IntentConfig = z.output<typeof intentConfigSchema>;

export function loadIntentConfig(env: Env = process.env): Readonly<IntentConfig> {
  return loadConfig(intentConfigSchema, withServiceHealthPort(env, 'intent'));
}
