// Loads routing data for training and evaluation: files in the routing-data format (format.ts), or RouterBench,
// RouteLLM and LLMRouter files, imported on the fly (import.ts). Several files (or folders of .jsonl files) are
// combined. Every row is validated, naming the file, row and field of the first problem; a file's own split is
// honoured (rows without one are split by question text, seeded); each model needs a price or per-row costs.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { countTokens, extractQuestion } from '@moma/core';
import { rng } from '@moma/core/train';
import { promptOf, rowError, routingRowSchema, scoreValue, type Prices, type RoutingDataRow } from './format.ts';
import { detectSource, importFile, type SourceFormat } from './import.ts';
import { readJsonl } from './read-jsonl.ts';
import type { DatasetModel, RoutingDataset, RoutingRow } from './types.ts';

export type { RoutingDataset, RoutingRow, DatasetModel, DatasetFormat } from './types.ts';

/** Rows without a split of their own: this share goes to test, by a seeded hash of the question text. */
export const TEST_FRACTION = 0.3;
export const SPLIT_SEED = 20240601;

export interface LoadOptions {
  /** USD per 1M tokens per model; takes precedence over prices fitted from per-row costs. */
  prices?: Prices;
}

/** The .jsonl files a path names: the file itself, or every .jsonl file in the folder (sorted). */
export function dataFiles(p: string): string[] {
  if (!statSync(p, { throwIfNoEntry: false })) throw new Error(`${p}: no such file or folder`);
  if (!statSync(p).isDirectory()) return [p];
  const files = readdirSync(p).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(p, f));
  if (files.length === 0) throw new Error(`${p}: no .jsonl files in this folder`);
  return files;
}

/** FNV-1a of the question text: the split depends on the question only, never on file order. */
function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Located {
  row: RoutingDataRow;
  where: string;
}

/** Reads one file's rows, validated; a source-format file is imported first. */
function readRows(file: string, opts: LoadOptions): { rows: Located[]; format: SourceFormat | 'moma'; notes: string[] } {
  const raw = readJsonl(file);
  if (raw.length === 0) throw new Error(`${file}: no rows`);
  const kind = detectSource(raw[0]);
  if (kind !== 'moma' && kind !== undefined) {
    const imported = importFile(file, { from: kind, ...(opts.prices ? { prices: opts.prices } : {}) });
    return { rows: imported.rows.map((row, i) => ({ row, where: `${file}: row ${i + 1}` })), format: kind, notes: imported.notes };
  }
  const problems: string[] = [];
  const rows: Located[] = [];
  raw.forEach((r, i) => {
    const res = routingRowSchema.safeParse(r);
    if (res.success) rows.push({ row: res.data, where: `${file}: row ${i + 1}` });
    else if (problems.length < 5) problems.push(rowError(`${file}: row ${i + 1}`, r, res.error));
    else problems.push('');
  });
  if (problems.length > 0) {
    const more = problems.length > 5 ? `\n  … and ${problems.length - 5} more rows` : '';
    throw new Error(`${problems.length} invalid rows (format: schemas/routing-data.schema.json):\n  ${problems.slice(0, 5).join('\n  ')}${more}`);
  }
  return { rows, format: 'moma', notes: [] };
}

/** Every validated row of files or folders (source formats imported), in file order. */
export function readRoutingRows(paths: readonly string[], opts: LoadOptions = {}): RoutingDataRow[] {
  return paths.flatMap(dataFiles).flatMap((f) => readRows(f, opts).rows.map((r) => r.row));
}

/**
 * Per-model prices: given ones, else fitted by least squares on cost ≈ a·prompt tokens + b·completion tokens
 * (a, b ≥ 0) from the rows' recorded costs. A model with neither is an error naming it.
 */
function modelPrices(models: readonly string[], rows: readonly Located[], given: Prices | undefined): DatasetModel[] {
  const missing: string[] = [];
  const out = models.map((m): DatasetModel => {
    const toks: number[] = [];
    const outs: number[] = [];
    const costs: number[] = [];
    const completions: number[] = [];
    for (const { row } of rows) {
      const t = row.tokens?.[m];
      if (t) completions.push(t.completion);
      const c = row.cost_usd?.[m];
      if (c === undefined || row.split === 'test') continue;
      toks.push(t?.prompt ?? countTokens(promptOf(row)));
      outs.push(t?.completion ?? 0);
      costs.push(c);
    }
    const outputTokens = completions.length > 0 ? completions.reduce((x, y) => x + y, 0) / completions.length : 0;
    const p = given?.[m];
    if (p) return { id: m, inputPricePerMTok: p.input, outputPricePerMTok: p.output, outputTokens };
    if (costs.length === 0) {
      missing.push(m);
      return { id: m, inputPricePerMTok: 0, outputPricePerMTok: 0, outputTokens };
    }
    const { a, b } = fitPrices(toks, outs, costs);
    return { id: m, inputPricePerMTok: a * 1e6, outputPricePerMTok: b * 1e6, outputTokens };
  });
  if (missing.length > 0) {
    throw new Error(
      `no price for ${missing.map((m) => `"${m}"`).join(', ')}: the cost axis needs one. Give --prices FILE (JSON {"<model>": {"input": USD/1M, "output": USD/1M}}) or cost_usd per row`,
    );
  }
  return out;
}

/** Least squares of costs on (prompt, completion) tokens with non-negative coefficients (one shared price if not). */
export function fitPrices(tokens: number[], outs: number[], costs: number[]): { a: number; b: number } {
  let sxx = 0, sxy = 0, syy = 0, sxc = 0, syc = 0;
  for (let i = 0; i < costs.length; i++) {
    const x = tokens[i]!, y = outs[i] ?? 0, c = costs[i]!;
    sxx += x * x; sxy += x * y; syy += y * y; sxc += x * c; syc += y * c;
  }
  const det = sxx * syy - sxy * sxy;
  let a = det !== 0 ? (sxc * syy - syc * sxy) / det : 0;
  let b = det !== 0 ? (syc * sxx - sxc * sxy) / det : 0;
  if (a < 0 || b < 0 || det === 0) {
    const s = (sxc + syc) / Math.max(sxx + 2 * sxy + syy, 1e-12);
    a = Math.max(s, 0);
    b = a;
  }
  return { a, b };
}

const norm = (s: string): string => extractQuestion(s).toLowerCase().replace(/\s+/g, ' ').trim();

/** Reads routing data from one or more files or folders (see the file comment). */
export function loadDataset(paths: string | readonly string[], opts: LoadOptions = {}): RoutingDataset {
  const files = (typeof paths === 'string' ? [paths] : paths).flatMap(dataFiles);
  if (files.length === 0) throw new Error('no data files given');
  const formats = new Set<string>();
  const notes: string[] = [];
  const all: Located[] = [];
  for (const f of files) {
    const r = readRows(f, opts);
    formats.add(r.format);
    notes.push(...r.notes);
    all.push(...r.rows);
  }
  // Ids are unique across everything combined.
  const byId = new Map<string, string>();
  for (const { row, where } of all) {
    const first = byId.get(row.id);
    if (first) throw new Error(`${where}: id "${row.id}" is also used at ${first}`);
    byId.set(row.id, where);
  }
  // A split is the file's: all rows have one, or none does (then it is made here).
  const withSplit = all.filter((r) => r.row.split !== undefined).length;
  if (withSplit > 0 && withSplit < all.length) {
    const bad = all.find((r) => r.row.split === undefined)!;
    throw new Error(`${bad.where}: split: missing, while ${withSplit} other rows have one (give every row a split, or none)`);
  }
  if (withSplit === 0) notes.push(`no split in the data: ${TEST_FRACTION * 100}% of questions go to test (seeded hash of the question text, seed ${SPLIT_SEED})`);
  if (all.some((r) => r.row.split === 'val')) notes.push('rows with split "val" are used for training (the trainer holds out its own validation share)');

  const models = [...new Set(all.flatMap((r) => Object.keys(r.row.scores)))];
  const dsModels = modelPrices(models, all, opts.prices);
  const M = models.length;
  const rows: RoutingRow[] = all.map(({ row }) => {
    const prompt = promptOf(row);
    const split: RoutingRow['split'] =
      row.split === 'test' ? 'test' : row.split !== undefined ? 'train' : rng(SPLIT_SEED ^ hashText(prompt))() < TEST_FRACTION ? 'test' : 'train';
    const promptTokens = countTokens(prompt);
    return {
      id: row.id,
      split,
      task: row.task,
      prompt,
      scores: Float32Array.from(models, (m) => scoreValue(row.scores[m]) ?? Number.NaN),
      costUsd: Float32Array.from(dsModels, (m) => {
        const c = row.cost_usd?.[m.id];
        if (c !== undefined) return c;
        const t = row.tokens?.[m.id];
        return t ? (t.prompt * m.inputPricePerMTok + t.completion * m.outputPricePerMTok) / 1e6 : (promptTokens * m.inputPricePerMTok + m.outputTokens * m.outputPricePerMTok) / 1e6;
      }),
    };
  });
  // A test question that also occurs in train would measure memory, not routing.
  const trainQ = new Set(rows.filter((r) => r.split === 'train').map((r) => norm(r.prompt)));
  const kept = rows.filter((r) => r.split !== 'test' || !trainQ.has(norm(r.prompt)));
  if (kept.length < rows.length) notes.push(`dropped ${rows.length - kept.length} test queries whose question is also in train`);

  const name = files.map((f) => path.basename(f).replace(/\.jsonl$/, '')).join('+');
  const evals = [...new Set(kept.map((r) => r.task))].sort();
  const ds: RoutingDataset = {
    name,
    format: formats.size === 1 ? ([...formats][0] as RoutingDataset['format']) : 'mixed',
    models: dsModels,
    rows: kept,
    evals,
    evalOf: (r) => r.task,
    notes,
  };
  if (M === 2) ds.strongWeak = strongerFirst(kept.filter((r) => r.split === 'train'));
  return ds;
}

/** Of two models, the stronger (higher mean score over `rows`, unmeasured ones left out) first. */
export function strongerFirst(rows: readonly RoutingRow[]): [number, number] {
  const mean = [0, 1].map((m) => {
    const v = rows.filter((r) => !Number.isNaN(r.scores[m]!)).map((r) => r.scores[m]!);
    return v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
  });
  return mean[0]! >= mean[1]! ? [0, 1] : [1, 0];
}

/**
 * The same data split by task instead: a seeded choice of whole tasks (about `fraction` of the rows) is the test
 * split and the others train, so the router is scored on tasks it never saw in training.
 */
export function holdOutTasks(ds: RoutingDataset, fraction = TEST_FRACTION, seed = SPLIT_SEED): RoutingDataset {
  const tasks = [...new Set(ds.rows.map((r) => r.task))].sort();
  if (tasks.length < 2) throw new Error(`--split tasks needs at least two tasks; ${ds.name} has ${tasks.length}`);
  const rand = rng(seed);
  const order = tasks.map((t) => ({ t, k: rand() })).sort((a, b) => a.k - b.k).map((x) => x.t);
  const count = new Map(tasks.map((t) => [t, ds.rows.filter((r) => r.task === t).length]));
  const held = new Set<string>();
  let n = 0;
  for (const t of order) {
    if (n >= fraction * ds.rows.length || held.size === tasks.length - 1) break;
    held.add(t);
    n += count.get(t)!;
  }
  const rows = ds.rows.map((r) => ({ ...r, split: held.has(r.task) ? ('test' as const) : ('train' as const) }));
  return {
    ...ds,
    name: `${ds.name} (by task)`,
    rows,
    evals: [...held].sort(),
    notes: [...ds.notes, `split by task: test = ${[...held].sort().join(', ')} (${n} rows), never seen in training`],
  };
}

/**
 * The same data with models renamed, `aliases` mapping a data model id to the id to use instead (the id a trained
 * artifact knows it by: `mistralai/mixtral-8x7b-chat` in one benchmark is `mistralai/Mixtral-8x7B-Instruct-v0.1` in
 * another). An alias for a model the data does not have is an error naming it, unless `onlyPresent` (data that may
 * already use the artifact's names: the aliases it has apply); two models renamed to one id is always an error.
 */
export function renameModels(ds: RoutingDataset, given: ReadonlyMap<string, string>, opts: { onlyPresent?: boolean } = {}): RoutingDataset {
  const ids = ds.models.map((m) => m.id);
  const aliases = opts.onlyPresent ? new Map([...given].filter(([from]) => ids.includes(from))) : given;
  if (aliases.size === 0) return ds;
  const unknown = [...aliases.keys()].filter((id) => !ids.includes(id));
  if (unknown.length > 0) throw new Error(`--model-alias names ${unknown.join(', ')}, not a model of ${ds.name} (its models: ${ids.join(', ')})`);
  const renamed = ids.map((id) => aliases.get(id) ?? id);
  const twice = renamed.filter((id, i) => renamed.indexOf(id) !== i);
  if (twice.length > 0) throw new Error(`--model-alias gives two models of ${ds.name} the id ${[...new Set(twice)].join(', ')}`);
  return {
    ...ds,
    models: ds.models.map((m, i) => ({ ...m, id: renamed[i]! })),
    notes: [...ds.notes, ...[...aliases].map(([from, to]) => `the data's ${from} is evaluated as ${to}`)],
  };
}

/**
 * The same data with only the models `ids` (in that order): the pool a deployment would route among, e.g. two of a
 * benchmark's eleven for a strong/weak APGR. An id the data does not have is an error naming the data's models; rows
 * that score none of the kept models are dropped (noted). Two kept models get the strong/weak pair again.
 */
export function selectModels(ds: RoutingDataset, ids: readonly string[]): RoutingDataset {
  if (ids.length === 0) return ds;
  const have = ds.models.map((m) => m.id);
  const unknown = ids.filter((id) => !have.includes(id));
  if (unknown.length > 0) throw new Error(`--models names ${unknown.join(', ')}, not a model of ${ds.name} (its models: ${have.join(', ')})`);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0) throw new Error(`--models gives ${[...new Set(twice)].join(', ')} twice`);
  if (ids.length < 2) throw new Error(`--models needs at least two models to route among (got ${ids.join(', ')})`);
  const cols = ids.map((id) => have.indexOf(id));
  const rows = ds.rows
    .map((r) => ({ ...r, scores: Float32Array.from(cols, (c) => r.scores[c]!), costUsd: Float32Array.from(cols, (c) => r.costUsd[c]!) }))
    .filter((r) => r.scores.some((v) => !Number.isNaN(v)));
  const dropped = ds.rows.length - rows.length;
  const out: RoutingDataset = {
    ...ds,
    models: cols.map((c) => ds.models[c]!),
    rows,
    evals: [...new Set(rows.map((r) => r.task))].sort(),
    notes: [...ds.notes, `models: ${ids.join(', ')} (of ${have.length})${dropped > 0 ? `; ${dropped} row${dropped === 1 ? '' : 's'} scoring none of them dropped` : ''}`],
  };
  delete out.strongWeak;
  if (ids.length === 2) out.strongWeak = strongerFirst(rows.filter((r) => r.split === 'train'));
  return out;
}

/** A comma-separated `--models` value as ids (empty entries are an error). */
export function parseModelList(flag: string | undefined): string[] {
  if (flag === undefined) return [];
  const ids = flag.split(',').map((s) => s.trim());
  if (ids.some((s) => s === '')) throw new Error(`--models ${JSON.stringify(flag)}: expected comma-separated model ids`);
  return ids;
}

/** `FROM=TO` flags as a map (FROM a data model id, TO the id it is evaluated as); a malformed flag is an error. */
export function parseModelAliases(flags: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    const from = flag.slice(0, eq).trim();
    const to = flag.slice(eq + 1).trim();
    if (eq < 0 || !from || !to) throw new Error(`--model-alias ${JSON.stringify(flag)}: expected DATA_MODEL=ARTIFACT_MODEL`);
    if (out.has(from)) throw new Error(`--model-alias gives ${from} twice`);
    out.set(from, to);
  }
  return out;
}
