import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { AgentSpec } from '@moma/core';
import { EvalInputError, readJsonFile } from './errors.ts';

/**
 * Schema-Guided Dialogue (CC BY-SA 4.0) loaders for the upstream layout: a split folder holds schema.json and
 * dialogues_NNN.json (or .json.gz) files. Schemas become agent cards, dialogues become replayable turns whose gold
 * active service is derived from the user turns' frames.
 */

export const SGD_SPLITS = ['dev', 'test'] as const;
export type SgdSplit = (typeof SGD_SPLITS)[number];
export const SGDX_VARIANTS = ['v1', 'v2', 'v3', 'v4', 'v5'] as const;

interface SchemaSlot {
  name: string;
  description: string;
}
interface SchemaIntent {
  name: string;
  description: string;
  required_slots?: string[];
  optional_slots?: Record<string, string>;
}
interface SchemaService {
  service_name: string;
  description: string;
  slots?: SchemaSlot[];
  intents?: SchemaIntent[];
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
  const schema = readJsonFile(schemaPath);
  if (!Array.isArray(schema) || schema.length === 0 || !schema.every((s) => typeof (s as SchemaService)?.service_name === 'string')) {
    throw new EvalInputError(`${schemaPath}: not an SGD schema (expected a non-empty list of services with service_name)`);
  }
  return (schema as SchemaService[]).map((s) => {
    const slotDesc = new Map((s.slots ?? []).map((x) => [x.name, x.description]));
    const id = canonicalService(s.service_name, variant);
    return {
      id,
      tenants: [],
      healthy: true,
      card: {
        name: id.split('_')[0]!,
        description: s.description ?? '',
        url: `http://agents.local/${id}`,
        version: '1.0.0',
        skills: (s.intents ?? []).map((i) => ({
          id: i.name,
          name: i.name,
          description: [i.description, ...[...(i.required_slots ?? []), ...Object.keys(i.optional_slots ?? {})].map((n) => slotDesc.get(n) ?? '')]
            .filter((t) => t)
            .join('. '),
          tags: [],
          examples: [],
        })),
      },
    };
  });
}

export interface RawFrame {
  service: string;
  actions?: Array<{ act: string }>;
  state?: { active_intent?: string };
}
export interface RawTurn {
  speaker: 'USER' | 'SYSTEM';
  utterance: string;
  frames: RawFrame[];
}
export interface RawDialogue {
  dialogue_id: string;
  turns: RawTurn[];
}

/**
 * The task state an A2A agent would report for a system reply: asking for a slot, a confirmation or a choice among
 * offers is input-required; a finished transaction, an answer or a goodbye is completed. So is NOTIFY_FAILURE ("the
 * table could not be booked"): the agent did its work and tells the user, where A2A's `failed` is a task that broke
 * in processing, which MoMA's executor answers from an LLM instead and the state machine releases. After a
 * NOTIFY_FAILURE reply the user stays with the service (in SGD dev, none of the 362 turns after one changes it).
 */
export function taskStateOf(acts: readonly string[]): string {
  if (acts.some((a) => a === 'REQUEST' || a === 'CONFIRM' || a === 'OFFER_INTENT' || a === 'OFFER')) return 'input-required';
  return 'completed';
}

/**
 * The gold active service of a user turn, from its frames. One frame: its service. Several frames (a hand-over from
 * one service to the next): the frame with an INFORM_INTENT act; without user acts (the 2019 dev files), the frame
 * whose service differs from the previous active service; otherwise the first frame.
 */
export function activeService(frames: readonly RawFrame[], previous: string | null): string | null {
  if (frames.length === 0) return null;
  if (frames.length === 1) return frames[0]!.service;
  const informs = frames.find((f) => (f.actions ?? []).some((a) => a.act === 'INFORM_INTENT'));
  if (informs) return informs.service;
  return (frames.find((f) => f.service !== previous) ?? frames[0]!).service;
}

/** User turns of one upstream dialogue, with the system turn before each and the task state of the reply after it. */
export function dialogueTurns(d: RawDialogue): SgdTurn[] {
  const turns: SgdTurn[] = [];
  let previous: string | null = null;
  d.turns.forEach((t, i) => {
    if (t.speaker !== 'USER') return;
    const service = activeService(t.frames ?? [], previous);
    if (!service) return;
    previous = service;
    const prev = d.turns[i - 1];
    const reply = d.turns[i + 1];
    const acts = reply ? (reply.frames ?? []).flatMap((fr) => (fr.actions ?? []).map((a) => a.act)) : ['GOODBYE'];
    turns.push({ user: t.utterance, system: prev?.speaker === 'SYSTEM' ? prev.utterance : '', service, taskState: taskStateOf(acts) });
  });
  return turns;
}

const DIALOGUE_FILE = /^dialogues_.+\.json(\.gz)?$/;

/** The dialogue files of a folder (dialogues_*.json and dialogues_*.json.gz), sorted by name. */
export function dialogueFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => DIALOGUE_FILE.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Loads the dialogues of these files (a dialogue id seen twice keeps its first copy), sorted by id. */
export function loadSgdDialogues(files: readonly string[]): SgdDialogue[] {
  const byId = new Map<string, SgdDialogue>();
  for (const f of files) {
    const raw = readJsonFile(f);
    if (!Array.isArray(raw)) throw new EvalInputError(`${f}: not an SGD dialogue file (expected a list of dialogues)`);
    for (const d of raw as RawDialogue[]) {
      if (typeof d?.dialogue_id !== 'string' || !Array.isArray(d.turns)) throw new EvalInputError(`${f}: not an SGD dialogue file (a dialogue lacks dialogue_id or turns)`);
      if (byId.has(d.dialogue_id)) continue;
      const turns = dialogueTurns(d);
      if (turns.length) byId.set(d.dialogue_id, { id: d.dialogue_id, turns });
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One split of the upstream layout: its schema and its dialogue files (also from a sibling `<split>_2019` folder). */
export interface SgdSplitFiles {
  dir: string;
  schema: string;
  files: string[];
}

export interface SgdLayout {
  /** The folder holding the split folders (train/, dev/, test/, sgd_x/). */
  root: string;
  split: SgdSplit;
  eval: SgdSplitFiles;
  /** SGD train, for fitting the generic knobs (other services than dev/test). */
  train: SgdSplitFiles;
  /** SGD-X schemas for the evaluated split, per variant present under root/sgd_x. */
  sgdx: Array<{ variant: string; schema: string }>;
}

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
const hasSchema = (p: string): boolean => existsSync(join(p, 'schema.json'));

function splitFiles(dir: string, what: string): SgdSplitFiles {
  const schema = join(dir, 'schema.json');
  if (!existsSync(schema)) throw new EvalInputError(`${what}: no schema.json in ${dir}`);
  const files = dialogueFiles(dir);
  const extra = `${dir}_2019`;
  if (isDir(extra)) files.push(...dialogueFiles(extra));
  if (!files.length) throw new EvalInputError(`${what}: no dialogues_*.json or dialogues_*.json.gz files in ${dir}`);
  return { dir, schema, files };
}

/**
 * Finds the split to evaluate from --sgd: the split folder itself (schema.json + dialogues_*), a root with
 * `<split>/` under it, or a root with `raw/<split>/` (this project's shared copy). A file means its folder. The split
 * defaults to the folder's name when --sgd is a dev or test folder, else dev. Train must sit beside the split.
 */
export function resolveSgdLayout(path: string, split?: string): SgdLayout {
  if (split !== undefined && !(SGD_SPLITS as readonly string[]).includes(split)) {
    throw new EvalInputError(`--split must be one of ${SGD_SPLITS.join(', ')} (got "${split}")`);
  }
  const abs = resolve(path);
  if (!existsSync(abs)) throw new EvalInputError(`--sgd: no such file or folder: ${path}`);
  const dir = statSync(abs).isFile() ? dirname(abs) : abs;
  let root: string;
  let evalDir: string;
  let s: SgdSplit;
  if (hasSchema(dir)) {
    const name = basename(dir);
    if (name === 'train') throw new EvalInputError(`--sgd points at the train split (${dir}); train is only used to fit the policy, evaluate dev or test`);
    const named = (SGD_SPLITS as readonly string[]).includes(name) ? (name as SgdSplit) : undefined;
    if (split !== undefined && named !== undefined && named !== split) {
      throw new EvalInputError(`--sgd points at the ${named} split folder (${dir}) but --split is ${split}`);
    }
    s = (split as SgdSplit | undefined) ?? named ?? 'dev';
    root = dirname(dir);
    evalDir = dir;
  } else {
    s = (split as SgdSplit | undefined) ?? 'dev';
    const found = [dir, join(dir, 'raw')].find((r) => hasSchema(join(r, s)));
    if (!found) {
      throw new EvalInputError(`--sgd ${path}: no SGD ${s} split there (looked for schema.json in ${dir}, ${join(dir, s)} and ${join(dir, 'raw', s)})`);
    }
    root = found;
    evalDir = join(found, s);
  }
  const trainDir = join(root, 'train');
  if (!hasSchema(trainDir)) {
    throw new EvalInputError(`SGD train split not found: ${trainDir} needs schema.json and dialogues_* files (the policy is fitted on train)`);
  }
  const sgdx = SGDX_VARIANTS.map((variant) => ({ variant, schema: join(root, 'sgd_x', variant, s, 'schema.json') })).filter((v) => existsSync(v.schema));
  return { root, split: s, eval: splitFiles(evalDir, `SGD ${s}`), train: splitFiles(trainDir, 'SGD train'), sgdx };
}
