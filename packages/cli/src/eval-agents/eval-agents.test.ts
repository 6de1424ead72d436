import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { evalClinc, resolveClincFile } from './clinc.ts';
import { EvalInputError } from './errors.ts';
import { runEvalAgents, type EvalAgentsResult } from './index.ts';
import { activeService, canonicalService, domainOf, loadSgdDialogues, resolveSgdLayout, sgdAgents, taskStateOf } from './sgd-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'eval-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SGD = join(FIX, 'sgd');
const NO_OOS = join(FIX, 'clinc-no-oos');
const SHARED_SGD = fileURLToPath(new URL('../../../../../shared/datasets/sgd/', import.meta.url));

/** A deterministic stand-in for the sentence encoder: hashed words, dense and normalised; counts the texts it embeds. */
const fakeModel = {
  id: 'fake-words-64',
  dim: 64,
  embedded: 0,
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    this.embedded += texts.length;
    return texts.map((t) => {
      const v = new Float32Array(64);
      for (const w of t.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        let h = 7;
        for (let i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) >>> 0;
        v[h % 64]! += 1;
      }
      v[63]! += 0.1;
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
  },
};

/** Runs the command with captured output and its own cache folder. */
async function run(argv: string[], cacheDir: string | null = join(dir, 'cache')): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runEvalAgents(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s), cacheDir, semanticModel: fakeModel });
  return { code, out, err };
}

async function runJson(argv: string[], cacheDir?: string | null): Promise<EvalAgentsResult> {
  const r = await run([...argv, '--json', '--quiet'], cacheDir);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as EvalAgentsResult;
}

const withoutFit = (r: EvalAgentsResult) => ({ ...r.sgd, fit: undefined });

describe('eval-agents', () => {
  it.each([
    [['REQUEST'], 'input-required'],
    [['OFFER', 'INFORM_COUNT'], 'input-required'],
    [['CONFIRM'], 'input-required'],
    [['NOTIFY_SUCCESS'], 'completed'],
    [['NOTIFY_FAILURE', 'REQ_MORE'], 'completed'],
    [['NOTIFY_FAILURE', 'OFFER'], 'input-required'],
    [['GOODBYE'], 'completed'],
  ])('eval-agents - system acts %j map to task state %s', (acts, state) => {
    expect(taskStateOf(acts)).toBe(state);
  });

  it('eval-agents - SGD-X service names map back to the original service', () => {
    expect(canonicalService('Banks_25', true)).toBe('Banks_2');
    expect(canonicalService('Banks_2', false)).toBe('Banks_2');
    expect(domainOf('Hotels_4')).toBe('Hotels');
  });

  it('eval-agents - SGD schema services become cards from descriptions only', () => {
    const p = join(dir, 'schema.json');
    const schema = [{
      service_name: 'Buses_1',
      description: 'Book bus journeys',
      slots: [{ name: 'to_city', description: 'Destination city' }],
      intents: [{ name: 'FindBus', description: 'Find a bus journey', required_slots: ['to_city'], optional_slots: {} }],
    }];
    writeFileSync(p, JSON.stringify(schema));
    const [a] = sgdAgents(p);
    expect(a!.id).toBe('Buses_1');
    expect(a!.card.skills[0]).toEqual({ id: 'FindBus', name: 'FindBus', description: 'Find a bus journey. Destination city', tags: [], examples: [] });
  });

  it('eval-agents - the gold active service comes from the user frames', () => {
    const f = (service: string, ...acts: string[]) => ({ service, ...(acts.length ? { actions: acts.map((act) => ({ act })) } : {}) });
    expect(activeService([f('Hotels_1', 'INFORM')], null)).toBe('Hotels_1');
    // hand-over: the frame that informs the new intent, wherever it is
    expect(activeService([f('Hotels_1', 'SELECT'), f('Movies_1', 'INFORM_INTENT')], 'Hotels_1')).toBe('Movies_1');
    expect(activeService([f('Movies_1', 'INFORM_INTENT'), f('Hotels_1', 'THANK_YOU')], 'Hotels_1')).toBe('Movies_1');
    // 2019 files (no user acts): the frame whose service differs from the previous active one
    expect(activeService([f('Weather_1'), f('Hotels_2')], 'Weather_1')).toBe('Hotels_2');
    expect(activeService([f('Hotels_2'), f('Weather_1')], 'Weather_1')).toBe('Hotels_2');
    expect(activeService([], 'Weather_1')).toBeNull();
  });

  it('eval-agents - upstream SGD layout: plain and gzip dialogue files, the dev_2019 sibling, per-turn gold and task states', () => {
    const lay = resolveSgdLayout(SGD, 'dev');
    expect(lay.split).toBe('dev');
    expect(lay.eval.dir).toBe(join(SGD, 'dev'));
    expect(lay.eval.files).toEqual([join(SGD, 'dev/dialogues_001.json.gz'), join(SGD, 'dev/dialogues_002.json'), join(SGD, 'dev_2019/dialogues_003.json')]);
    expect(lay.train.files).toEqual([join(SGD, 'train/dialogues_001.json')]);
    expect(lay.sgdx).toEqual([{ variant: 'v1', schema: join(SGD, 'sgd_x/v1/dev/schema.json') }]);
    const ds = loadSgdDialogues(lay.eval.files);
    expect(ds.map((d) => d.id)).toEqual(['1_00000', '1_00001', '1_00002', '2_00000', '2_00001', '3_00000']);
    const byId = new Map(ds.map((d) => [d.id, d]));
    const first = byId.get('1_00000')!;
    expect(first.turns.map((t) => t.service)).toEqual(['Hotels_1', 'Hotels_1', 'Movies_1', 'Movies_1', 'Movies_1']);
    expect(first.turns.map((t) => t.taskState)).toEqual(['input-required', 'input-required', 'input-required', 'completed', 'completed']);
    expect(first.turns[0]!.system).toBe('');
    expect(first.turns[1]).toMatchObject({ user: 'March 3rd, for two nights.', system: 'What is your check in date?' });
    expect(byId.get('3_00000')!.turns.map((t) => t.service)).toEqual(['Weather_1', 'Weather_1', 'Hotels_2', 'Hotels_2', 'Hotels_2']);
    expect(byId.get('1_00002')!.turns.map((t) => t.service)).toEqual(['Movies_1', 'Movies_1']);
  });

  it('eval-agents - --sgd finds the split from a root, the split folder, a file in it, or a root with raw/', () => {
    expect(resolveSgdLayout(SGD).eval.dir).toBe(join(SGD, 'dev'));
    expect(resolveSgdLayout(join(SGD, 'dev')).split).toBe('dev');
    expect(resolveSgdLayout(join(SGD, 'dev', 'schema.json'), 'dev').eval.dir).toBe(join(SGD, 'dev'));
    const t = resolveSgdLayout(join(SGD, 'test'));
    expect(t.split).toBe('test');
    expect(t.eval.files).toEqual([join(SGD, 'test/dialogues_001.json.gz')]);
    expect(t.sgdx).toEqual([]);
    expect(resolveSgdLayout(SGD, 'test').eval.dir).toBe(join(SGD, 'test'));
    const raw = join(dir, 'with-raw');
    cpSync(SGD, join(raw, 'raw'), { recursive: true });
    writeFileSync(join(raw, 'notes.jsonl'), '');
    expect(resolveSgdLayout(join(raw, 'notes.jsonl'), 'dev').eval.dir).toBe(join(raw, 'raw', 'dev'));
    expect(() => resolveSgdLayout(join(SGD, 'dev'), 'test')).toThrow(/dev split folder .* --split is test/);
    expect(() => resolveSgdLayout(SGD, 'train')).toThrow(/--split must be one of dev, test/);
    expect(() => resolveSgdLayout(join(SGD, 'train'))).toThrow(/train split/);
    expect(() => resolveSgdLayout(join(dir, 'nope'))).toThrow(/no such file or folder/);
    expect(() => resolveSgdLayout(NO_OOS)).toThrow(EvalInputError);
    const noTrain = join(dir, 'no-train');
    cpSync(join(SGD, 'dev'), join(noTrain, 'dev'), { recursive: true });
    expect(() => resolveSgdLayout(noTrain)).toThrow(/train split not found/);
  });

  it('eval-agents - SGD end to end: split and folder reported, --quiet, the fit cached by its inputs', async () => {
    const cache = join(dir, 'cache-e2e');
    const a = await runJson(['--sgd', SGD, '--split', 'dev', '--no-sgdx'], cache);
    const s = a.sgd!;
    expect(a.clinc).toBeUndefined();
    expect(s).toMatchObject({ split: 'dev', dir: join(SGD, 'dev'), schema: join(SGD, 'dev/schema.json'), trainDir: join(SGD, 'train') });
    expect(s.files).toHaveLength(3);
    expect(s).toMatchObject({ dialogues: 6, turns: 27, switchTurns: 5, services: 4, trainDialogues: 6, seed: 7, sgdx: {}, sgdxSkipped: true, sgdxMissing: [] });
    expect(s.fit.cached).toBe(false);
    expect(s.fit.key).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(cache)).toEqual([s.fit.file!.slice(cache.length + 1)]);
    for (const x of [s.turnAccuracy, s.switchTurnAccuracy, s.statelessTurnAccuracy, s.stickyTurnAccuracy]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(Number.isInteger(Math.round(s.turnAccuracy * s.turns * 1e6) / 1e6)).toBe(true);
    expect(s.turnAccuracyDomain).toBeGreaterThanOrEqual(s.turnAccuracy);
    expect(s.statelessTurnAccuracyDomain).toBeGreaterThanOrEqual(s.statelessTurnAccuracy);
    // the state machine with context beats the stateless argmax on these dialogues (follow-up turns like "Make it for tomorrow.")
    expect(s.turnAccuracy).toBeGreaterThan(s.statelessTurnAccuracy);

    // same inputs: the cached fit is used and gives the same figures
    const b = await runJson(['--sgd', join(SGD, 'dev'), '--no-sgdx'], cache);
    expect(b.sgd!.fit).toMatchObject({ cached: true, key: s.fit.key, file: s.fit.file, seconds: 0 });
    expect(withoutFit(b)).toEqual(withoutFit(a));
    // another seed is another fit
    const c = await runJson(['--sgd', SGD, '--no-sgdx', '--seed', '3'], cache);
    expect(c.sgd!.seed).toBe(3);
    expect(c.sgd!.fit.cached).toBe(false);
    expect(c.sgd!.fit.key).not.toBe(s.fit.key);
    expect(readdirSync(cache)).toHaveLength(2);
    // other training data is another fit
    const changed = join(dir, 'changed');
    cpSync(SGD, changed, { recursive: true });
    const tf = join(changed, 'train/dialogues_001.json');
    writeFileSync(tf, readFileSync(tf, 'utf8').replace('I need a bus from Boston to New York.', 'I need a coach from Boston to New York.'));
    expect((await runJson(['--sgd', changed, '--no-sgdx'], cache)).sgd!.fit.cached).toBe(false);
    // --no-cache refits and stores nothing
    const d = await runJson(['--sgd', SGD, '--no-sgdx', '--no-cache'], cache);
    expect(d.sgd!.fit).toMatchObject({ cached: false, file: null, key: s.fit.key });
    expect(withoutFit(d)).toEqual(withoutFit(a));
    expect(readdirSync(cache)).toHaveLength(3);
  });

  it('eval-agents - SGD text output: progress unless --quiet, the cache note, SGD-X unless --no-sgdx', async () => {
    const cache = join(dir, 'cache-text');
    const first = await run(['--sgd', SGD], cache);
    expect(first.code).toBe(0);
    expect(first.err).toContain('[eval-agents] sgd: fitting policy on train');
    expect(first.out).toContain(`SGD dev split from ${join(SGD, 'dev')} + ${join(SGD, 'dev_2019')} (3 dialogue files), encoder lexical (hashed n-grams): 6 dialogues, 27 user turns`);
    expect(first.out).toMatch(/fitted in [\d.]+ s \(key [0-9a-f]{12}, cached to /);
    expect(first.out).toMatch(/\| SGD-X v1 \| [\d.]+% \|/);
    expect(first.out).toContain('SGD-X v2, v3, v4, v5 not run');
    expect(first.out).not.toContain('threshold 0');
    const second = await run(['--sgd', SGD, '--no-sgdx', '--quiet'], cache);
    expect(second.code).toBe(0);
    expect(second.err).toBe('');
    expect(second.out).toMatch(/cached fit used \(key [0-9a-f]{12}, /);
    expect(second.out).toContain('SGD-X schema variants skipped (--no-sgdx).');
    expect(second.out).not.toContain('| SGD-X v1 |');
    const test = await runJson(['--sgd', join(SGD, 'test')], cache);
    expect(test.sgd).toMatchObject({ split: 'test', dir: join(SGD, 'test'), dialogues: 2, turns: 10, services: 2, sgdxSkipped: false, sgdxMissing: ['v1', 'v2', 'v3', 'v4', 'v5'] });
  });

  it('eval-agents - CLINC evaluation with OOS rows reports the rejection metrics', () => {
    const mini = JSON.parse(readFileSync(new URL('../../../core/src/agents/fixtures/clinc-mini.json', import.meta.url), 'utf8')) as Record<string, Array<{ text: string; intent: string; domain: string | null }>>;
    const lines = (['train', 'val', 'test'] as const).flatMap((split) => mini[split]!.map((r) => JSON.stringify({ split, ...r, oos: r.intent === 'oos' })));
    const p = join(dir, 'clinc.jsonl');
    writeFileSync(p, lines.join('\n'));
    const m = evalClinc(p, { head: { epochs: 8 } });
    expect(m).toMatchObject({ file: p, split: 'test', agents: 8, testOos: 12, valOos: 12 });
    expect(m.inScopeAccuracyNoReject).toBeGreaterThanOrEqual(0.8);
    const r = m.rejection!;
    for (const x of [r.inScopeAccuracy, r.oosRecall, r.oosPrecision]) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
    expect(r.inScopeAccuracy).toBeLessThanOrEqual(m.inScopeAccuracyNoReject);
  });

  it('eval-agents - --encoder use: both experts, the fast-path share, every text embedded once through the vector cache', async () => {
    const cache = join(dir, 'cache-use');
    const mini = JSON.parse(readFileSync(new URL('../../../core/src/agents/fixtures/clinc-mini.json', import.meta.url), 'utf8')) as Record<string, Array<{ text: string; intent: string; domain: string | null }>>;
    const lines = (['train', 'val', 'test'] as const).flatMap((split) => mini[split]!.map((r) => JSON.stringify({ split, ...r, oos: r.intent === 'oos' })));
    const p = join(dir, 'clinc-use.jsonl');
    writeFileSync(p, lines.join('\n'));
    fakeModel.embedded = 0;
    const lex = await runJson(['--clinc', p], cache);
    expect(lex.clinc).toMatchObject({ encoder: 'lexical', fastPathShare: null });
    expect(fakeModel.embedded).toBe(0);
    const a = await runJson(['--clinc', p, '--sgd', SGD, '--no-sgdx', '--encoder', 'use'], cache);
    expect(a.clinc).toMatchObject({ encoder: 'fake-words-64', agents: 8, testOos: 12 });
    expect(a.clinc!.fastPathShare).toBeGreaterThanOrEqual(0);
    expect(a.clinc!.fastPathShare).toBeLessThanOrEqual(1);
    expect(a.clinc!.inScopeAccuracyNoReject).toBeGreaterThanOrEqual(0.75);
    expect(lex.clinc!.rejectionSupport).toBeNull();
    expect([0, 0.5, 1, 1.5, 2, 3]).toContain(a.clinc!.rejectionSupport!.beta);
    expect(a.clinc!.rejectionSupport!.oosRecall).toBeGreaterThanOrEqual(0);
    expect(a.sgd).toMatchObject({ encoder: 'fake-words-64', dialogues: 6 });
    expect(a.sgd!.fit.key).not.toBe(lex.sgd?.fit.key);
    const embedded = fakeModel.embedded;
    expect(embedded).toBeGreaterThan(0);
    expect(readdirSync(cache).filter((f) => f.startsWith('vectors-'))).toEqual(['vectors-fake-words-64.bin']);
    // the second run reads every vector back: nothing embedded, the same figures
    const b = await runJson(['--clinc', p, '--sgd', SGD, '--no-sgdx', '--encoder', 'use'], cache);
    expect(fakeModel.embedded).toBe(embedded);
    expect({ ...b.clinc, fitSeconds: 0 }).toEqual({ ...a.clinc, fitSeconds: 0 });
    expect(withoutFit(b)).toEqual(withoutFit(a));
    // --no-cache re-embeds and stores nothing
    const c = await runJson(['--clinc', p, '--encoder', 'use', '--no-cache'], cache);
    expect(fakeModel.embedded).toBeGreaterThan(embedded);
    expect(c.clinc!.inScopeAccuracyNoReject).toBe(a.clinc!.inScopeAccuracyNoReject);
    const t = await run(['--clinc', p, '--encoder', 'use', '--quiet'], cache);
    expect(t.out).toContain('encoder lexical + fake-words-64 (product of experts + joint reranker)');
    expect(t.out).toMatch(/\| test queries answered without the full semantic encoder \(the lexical expert sure of an agent or of none, or with the static expert sure of an agent: [\d.]+%\) \| [\d.]+% \|/);
    // --fast-reject 0: no query is rejected before the encoder, so at most as many skip it; without rejection nothing changes
    const off = await runJson(['--clinc', p, '--encoder', 'use', '--fast-reject', '0'], cache);
    const high = await runJson(['--clinc', p, '--encoder', 'use', '--fast-reject', '0.5'], cache);
    expect(off.clinc!.fastPathShare).toBeLessThanOrEqual(a.clinc!.fastPathShare!);
    expect(high.clinc!.fastPathShare).toBeGreaterThan(off.clinc!.fastPathShare!);
    expect(off.clinc!.inScopeAccuracyNoReject).toBe(a.clinc!.inScopeAccuracyNoReject);
    expect(high.clinc!.inScopeAccuracyNoReject).toBe(a.clinc!.inScopeAccuracyNoReject);
    // --fast-path and --static-path above 1 (and no fast reject): every query goes through both full experts
    const both = await runJson(['--clinc', p, '--encoder', 'use', '--fast-path', '2', '--fast-reject', '0', '--static-path', '2'], cache);
    expect(both.clinc!.fastPathShare).toBe(0);
    expect(both.clinc!.staticPathShare).toBe(0);
    // --static-path 0: the static expert answers every query the lexical one leaves, none reaches the full encoder
    const staticAll = await runJson(['--clinc', p, '--encoder', 'use', '--fast-path', '2', '--fast-reject', '0', '--static-path', '0'], cache);
    expect(staticAll.clinc).toMatchObject({ fastPathShare: 1, staticPathShare: 1 });
    // off unless asked for; at 0.8 a part of the queries the lexical expert leaves
    expect(a.clinc!.staticPathShare).toBe(0);
    const at08 = await runJson(['--clinc', p, '--encoder', 'use', '--static-path', '0.8'], cache);
    expect(at08.clinc!.staticPathShare).toBeGreaterThanOrEqual(0);
    expect(at08.clinc!.fastPathShare).toBeGreaterThanOrEqual(a.clinc!.fastPathShare! + at08.clinc!.staticPathShare! - 1e-9);
    const always = await runJson(['--clinc', p, '--encoder', 'use', '--fast-path', '0'], cache);
    expect(always.clinc!.fastPathShare).toBe(1);
  });

  it('eval-agents - --clinc takes the folder; no OOS rows means no rejection metrics', async () => {
    expect(resolveClincFile(NO_OOS)).toBe(join(NO_OOS, 'clinc150.jsonl'));
    const j = await runJson(['--clinc', NO_OOS, '--seed', '11']);
    expect(j.clinc).toMatchObject({ file: join(NO_OOS, 'clinc150.jsonl'), split: 'test', agents: 4, categories: 2, testInScope: 8, testOos: 0, valOos: 0, rejection: null, seed: 11 });
    expect(j.clinc!.inScopeAccuracyNoReject).toBeGreaterThanOrEqual(0.75);
    expect(JSON.stringify(j)).not.toMatch(/oosRecall|threshold/);
    const t = await run(['--clinc', join(NO_OOS, 'clinc150.jsonl'), '--quiet']);
    expect(t.code).toBe(0);
    expect(t.out).toContain(`CLINC150 test split of ${join(NO_OOS, 'clinc150.jsonl')}`);
    expect(t.out).toContain('No rejection metrics');
    expect(t.out).toMatch(/Index fitted in [\d.]+ s \(seed 7\)/);
    expect(t.out).not.toMatch(/\| OOS recall \||\| OOS precision \||with rejection \||Threshold [\d.]+ calibrated/);
  });

  it.each([
    [[], /give --clinc PATH and\/or --sgd DIR/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--sgd'], /--sgd/],
    [['--sgd', SGD, 'extra'], /positional/],
    [['--sgd', '/nonexistent/sgd'], /--sgd: no such file or folder: \/nonexistent\/sgd/],
    [['--clinc', '/nonexistent/clinc150.jsonl'], /--clinc: no such file or folder/],
    [['--clinc', SGD], /--clinc: no clinc150.jsonl in/],
    [['--sgd', SGD, '--split', 'train'], /--split must be one of dev, test \(got "train"\)/],
    [['--sgd', join(SGD, 'dev'), '--split', 'test'], /--split is test/],
    [['--clinc', NO_OOS, '--split', 'dev'], /--split applies to --sgd only/],
    [['--sgd', SGD, '--seed', 'abc'], /--seed must be an integer/],
    [['--sgd', SGD, '--encoder', 'bert'], /--encoder must be one of lexical, use \(got "bert"\)/],
    [['--sgd', NO_OOS], /no SGD dev split there/],
    [['--clinc', NO_OOS, '--fast-reject', '0.1'], /--fast-reject applies with --encoder use only/],
    [['--clinc', NO_OOS, '--fast-path', '0.5'], /--fast-path applies to --clinc with --encoder use only/],
    [['--clinc', NO_OOS, '--encoder', 'use', '--fast-path', 'x'], /--fast-path must be a number ≥ 0 \(got "x"\)/],
    [['--clinc', NO_OOS, '--encoder', 'use', '--fast-reject', '1'], /--fast-reject must be a number in \[0, 1\) \(got "1"\)/],
    [['--clinc', NO_OOS, '--encoder', 'use', '--fast-reject', 'x'], /--fast-reject must be a number in \[0, 1\)/],
    [['--clinc', NO_OOS, '--static-path', '0.8'], /--static-path applies with --encoder use only/],
    [['--clinc', NO_OOS, '--encoder', 'use', '--static-path', 'x'], /--static-path must be a number ≥ 0 \(got "x"\)/],
  ])('eval-agents - bad input %j exits with 2 and a clear message', async (argv, msg) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(msg);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('eval-agents - a broken data file is bad input too', async () => {
    const bad = join(dir, 'bad');
    cpSync(SGD, bad, { recursive: true });
    writeFileSync(join(bad, 'dev', 'dialogues_002.json'), '[{"dialogue_id": ');
    const r = await run(['--sgd', bad, '--no-sgdx', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/dialogues_002\.json: not valid JSON/);
    mkdirSync(join(dir, 'badclinc'), { recursive: true });
    writeFileSync(join(dir, 'badclinc', 'clinc150.jsonl'), '{"split":"train","text":"hi","intent":"greet"}\n{"split":"dev","text":"x","intent":"y"}\n');
    const c = await run(['--clinc', join(dir, 'badclinc'), '--quiet']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/clinc150\.jsonl:2: expected \{split: train\|val\|test/);
  });

  it.skipIf(!existsSync(join(SHARED_SGD, 'sgd_user_turns.jsonl')))('eval-agents - on the shared SGD copy the frame-derived gold matches its sgd_user_turns.jsonl', () => {
    const gold = new Map<string, string>();
    for (const line of readFileSync(join(SHARED_SGD, 'sgd_user_turns.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      const l = JSON.parse(line) as { split: string; dialogue_id: string; user_turn_index: number; active_service: string };
      if (l.split === 'dev') gold.set(`${l.dialogue_id}#${l.user_turn_index}`, l.active_service);
    }
    const lay = resolveSgdLayout(join(SHARED_SGD, 'raw'), 'dev');
    const ds = loadSgdDialogues(lay.eval.files);
    const ours = new Map(ds.flatMap((d) => d.turns.map((t, i) => [`${d.id}#${i}`, t.service] as const)));
    expect(ds).toHaveLength(2482);
    expect(ours.size).toBe(gold.size);
    expect(ours).toEqual(gold);
  });
});
