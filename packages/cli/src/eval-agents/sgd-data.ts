import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { AgentSpec } from '@moma/core';

/** Schema-Guided Dialogue (CC BY-SA 4.0) loaders: schemas become agent cards, dialogues become replayable turns. */

interface SchemaSlot {
  name: string;
  description: string;
}
interface SchemaIntent {
  name: string;
  description: string;
  required_slots: string[];
  optional_slots: Record<string, string>;
}
interface SchemaService {
  service_name: string;
  description: string;
  slots: SchemaSlot[];
  intents: SchemaIntent[];
}

export interface SgdTurn {
  user: string;
  /** The system turn just before this user turn ('' on the first turn). */
  system: string;
  /** Gold active service of the user turn. */
  service: string;
  /** A2A task state the system's reply after this turn corresponds to. */
  taskState: string;
}

export interface SgdDialogue {
  id: string;
  turns: SgdTurn[];
}

/** SGD-X renames services (Banks_2 → Banks_21 … Banks_25); map them back so gold labels still match. */
export function canonicalService(name: string, variant: boolean): string {
  return variant ? name.replace(/^(.*_\d)\d$/, '$1') : name;
}

export function domainOf(service: string): string {
  return service.split('_')[0]!;
}

/**
 * One card per service, built from the schema's names and descriptions only: the service description, and one skill
 * per intent whose description lists the descriptions of the slots it takes.
 */
export function sgdAgents(schemaPath: string, variant = false): AgentSpec[] {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaService[];
  return schema.map((s) => {
    const slotDesc = new Map(s.slots.map((x) => [x.name, x.description]));
    const id = canonicalService(s.service_name, variant);
    return {
      id,
      tenants: [],
      healthy: true,
      card: {
        name: id.split('_')[0]!,
        description: s.description,
        url: `http://agents.local/${id}`,
        version: '1.0.0',
        skills: s.intents.map((i) => ({
          id: i.name,
          name: i.name,
          description: [i.description, ...[...i.required_slots, ...Object.keys(i.optional_slots)].map((n) => slotDesc.get(n) ?? '')]
            .filter((t) => t)
            .join('. '),
          tags: [],
          examples: [],
        })),
      },
    };
  });
}

interface RawFrame {
  service: string;
  actions?: Array<{ act: string }>;
}
interface RawTurn {
  speaker: 'USER' | 'SYSTEM';
  utterance: string;
  frames: RawFrame[];
}
interface RawDialogue {
  dialogue_id: string;
  turns: RawTurn[];
}

/**
 * The task state an A2A agent would report for a system reply: asking for a slot or a confirmation is
 * input-required; a finished transaction, an answer or a goodbye is completed.
 */
export function taskStateOf(acts: readonly string[]): string {
  if (acts.some((a) => a === 'REQUEST' || a === 'CONFIRM' || a === 'OFFER_INTENT')) return 'input-required';
  if (acts.some((a) => a === 'NOTIFY_FAILURE')) return 'failed';
  if (acts.some((a) => a === 'OFFER')) return 'input-required';
  return 'completed';
}

interface Label {
  dialogue_id: string;
  turn_index: number;
  active_service: string;
  split: string;
}

/** Loads dialogues of a split from raw/<split> (and raw/<split>_2019), with gold services from sgd_user_turns.jsonl. */
export function loadSgdDialogues(dir: string, split: 'train' | 'dev'): SgdDialogue[] {
  const gold = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'sgd_user_turns.jsonl'), 'utf8').split('\n')) {
    if (!line.includes(`"split": "${split}"`)) continue;
    const l = JSON.parse(line) as Label;
    gold.set(`${l.dialogue_id}#${l.turn_index}`, l.active_service);
  }
  const files: string[] = [];
  for (const sub of [split, `${split}_2019`]) {
    const d = join(dir, 'raw', sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) if (f.startsWith('dialogues_') && f.endsWith('.json.gz')) files.push(join(d, f));
  }
  const out: SgdDialogue[] = [];
  for (const f of files) {
    const raw = JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as RawDialogue[];
    for (const d of raw) {
      const turns: SgdTurn[] = [];
      d.turns.forEach((t, i) => {
        if (t.speaker !== 'USER') return;
        const service = gold.get(`${d.dialogue_id}#${i}`);
        if (!service) return;
        const prev = d.turns[i - 1];
        const reply = d.turns[i + 1];
        const acts = reply ? reply.frames.flatMap((fr) => (fr.actions ?? []).map((a) => a.act)) : ['GOODBYE'];
        turns.push({ user: t.utterance, system: prev?.utterance ?? '', service, taskState: taskStateOf(acts) });
      });
      if (turns.length) out.push({ id: d.dialogue_id, turns });
    }
  }
  out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}
