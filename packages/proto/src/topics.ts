// The event topics of the contract: subject and payload of every event a service publishes. The stage layer of
// @moma/platform (publishEvent / subscribeEvent) takes them as they are, so no call site names a subject or a codec.
// Every subject is under moma.events.>, the JetStream stream MOMA_EVENTS.
import { ArtifactPublished, Feedback, RegistryChanged, UsageBatch } from './gen/moma/v1/events.ts';

export const Topics = {
  /** The executor: the usage of its calls, batched over a few milliseconds. */
  usage: { subject: 'moma.events.usage', codec: UsageBatch },
  /** The orchestrator, after each change of the agent registry. */
  registry: { subject: 'moma.events.registry', codec: RegistryChanged },
  /** `moma publish`, when a new router artifact is ready for the scoring stage. */
  artifact: { subject: 'moma.events.artifact', codec: ArtifactPublished },
  /** The gateway, for each POST /v1/feedback: a client's score of one answer. */
  feedback: { subject: 'moma.events.feedback', codec: Feedback },
} as const;
