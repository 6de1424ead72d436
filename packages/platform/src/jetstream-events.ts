// The events stream: usage, registry and artifact events are kept (bounded) so a consumer that was down can
// catch up. Created on first publish if missing; another instance creating it at the same time is fine.
import { AckPolicy, DeliverPolicy, StorageType, DiscardPolicy, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

export const EVENTS_STREAM = 'MOMA_EVENTS';
export const EVENTS_SUBJECTS = ['moma.events.>'];

/**
 * Creates the events stream when it does not exist. `replicas` (NATS_EVENTS_REPLICAS) is set at creation only: an
 * existing stream keeps its own (`nats stream edit MOMA_EVENTS --replicas 3` changes it on a live cluster).
 */
export async function ensureEventStream(jsm: JetStreamManager, opts: { replicas?: number } = {}): Promise<void> {
  try {
    await jsm.streams.info(EVENTS_STREAM);
    return;
  } catch (err) {
    if ((err as Error).name !== 'StreamNotFoundError') throw err;
  }
  try {
    await jsm.streams.add({
      name: EVENTS_STREAM,
      subjects: EVENTS_SUBJECTS,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(7 * 24 * 3600 * 1000),
      max_bytes: 1024 * 1024 * 1024,
      num_replicas: opts.replicas ?? 1,
    });
  } catch (err) {
    // Lost a creation race with another instance: the stream exists now, which is all we need.
    await jsm.streams.info(EVENTS_STREAM).catch(() => {
      throw err;
    });
  }
}

/**
 * The durable consumer `group` of `subject` on the events stream (Bus.consume): created if missing, reused if it
 * exists. A new group starts with what is published from then on; an existing one resumes where it stopped. An
 * event is redelivered 30 s after a delivery that was not acked, at most 20 times.
 */
export async function ensureEventConsumer(jsm: JetStreamManager, group: string, subject: string): Promise<void> {
  try {
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: group,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: nanos(30_000),
      max_deliver: 20,
    });
  } catch (err) {
    // Another instance created it first (or it exists from an earlier run): consuming from it is all we need.
    await jsm.consumers.info(EVENTS_STREAM, group).catch(() => {
      throw err;
    });
  }
}
