// What the cl100k token counter costs in memory, and what a compact counter would: js-tiktoken's `Tiktoken` (as
// packages/core/src/llm/tokens.ts uses it) keeps a Map of comma-joined byte strings and a second Map of 100k
// Uint8Arrays for decoding, and its constructor peaks far above what it keeps. The compact counter below keys one
// Map by the token's bytes as a latin1 string and never decodes. Each variant runs in a fresh process.
//
//   node bench/memory-tokenizer.ts [--texts N]
// Counts are compared over texts from /work/shared/datasets when present (read at run time, never copied), else
// over generated text.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { variant: { type: 'string' }, texts: { type: 'string', default: '6000' } } });
const coreRequire = createRequire(fileURLToPath(new URL('../packages/core/package.json', import.meta.url)));
const load = async <T>(spec: string): Promise<T> => (await import(pathToFileURL(coreRequire.resolve(spec)).href)) as T;

interface Ranks {
  pat_str: string;
  bpe_ranks: string;
}

/** Counts cl100k tokens exactly like js-tiktoken's encode(text).length (special tokens are plain text here). */
class CompactCounter {
  private readonly ranks = new Map<string, number>();
  private readonly pat: RegExp;

  constructor(data: Ranks) {
    const text = data.bpe_ranks;
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const fields = text.slice(start, end).split(' ');
      start = end + 1;
      if (fields.length < 2) continue;
      const offset = Number.parseInt(fields[1]!, 10);
      for (let i = 2; i < fields.length; i++) this.ranks.set(Buffer.from(fields[i]!, 'base64').toString('latin1'), offset + i - 2);
    }
    this.pat = new RegExp(data.pat_str, 'ug');
  }

  count(text: string): number {
    let n = 0;
    for (const m of text.matchAll(this.pat)) {
      const bytes = Buffer.from(m[0], 'utf8').toString('latin1');
      n += this.ranks.has(bytes) ? 1 : this.merge(bytes);
    }
    return n;
  }

  /** Byte-pair merge: join the adjacent pair with the lowest rank until no pair is a token; returns the part count. */
  private merge(piece: string): number {
    const cuts = Array.from({ length: piece.length + 1 }, (_, i) => i);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < cuts.length - 2; i++) {
        const r = this.ranks.get(piece.slice(cuts[i], cuts[i + 2]));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) return cuts.length - 1;
      cuts.splice(best + 1, 1);
    }
  }
}

function sampleTexts(n: number): string[] {
  const out: string[] = [];
  const files = [
    '/work/shared/datasets/clinc150-oos-eval/clinc150.jsonl',
    '/work/shared/datasets/routellm-evals/mmlu_gpt4_vs_mixtral.jsonl',
    '/work/shared/datasets/llmrouter-dcrouter/dcrouter_joined.jsonl',
  ].filter(existsSync);
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n').slice(0, Math.ceil(n / files.length))) {
      if (!line) continue;
      const o = JSON.parse(line) as Record<string, unknown>;
      const s = [o.text, o.prompt, o.query, o.question].find((v) => typeof v === 'string') as string | undefined;
      out.push((s ?? line).slice(0, 1024));
    }
  }
  const words = ['route', 'the', 'query', 'naïve', 'café', '日本語', '🤖', 'x=1;', '\n\n', '   ', 'HTTP/2', '1234567'];
  for (let i = 0; out.length < n; i++) out.push(Array.from({ length: 5 + (i % 40) }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(i % 3 ? ' ' : ''));
  return out;
}

function memory(): { rss: number; heapUsed: number; heapTotal: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
  const m = process.memoryUsage();
  return { rss, heapUsed: m.heapUsed / 1048576, heapTotal: m.heapTotal / 1048576 };
}

async function runVariant(variant: string): Promise<void> {
  const before = memory();
  const ranks = (await load<{ default: Ranks }>('js-tiktoken/ranks/cl100k_base')).default;
  const t0 = performance.now();
  let count: (s: string) => number;
  if (variant === 'js-tiktoken') {
    // Typed locally: js-tiktoken is a dependency of @moma/core, not of the repository root.
    const { Tiktoken } = await load<{ Tiktoken: new (r: Ranks) => { encode(s: string): number[] } }>('js-tiktoken/lite');
    const enc = new Tiktoken(ranks);
    count = (s) => enc.encode(s).length;
  } else {
    const enc = new CompactCounter(ranks);
    count = (s) => enc.count(s);
  }
  count('warm up');
  const buildMs = performance.now() - t0;
  const after = memory();
  const texts = sampleTexts(Number(args.texts));
  const t1 = performance.now();
  const counts = texts.map((s) => count(s));
  const countUs = ((performance.now() - t1) * 1000) / texts.length;
  console.log(JSON.stringify({ variant, buildMs, countUs, before, after, counts }));
}

if (args.variant) {
  await runVariant(args.variant);
} else {
  const results = ['js-tiktoken', 'compact'].map((variant) => {
    const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--variant=${variant}`, `--texts=${args.texts}`], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`${variant} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      variant: string;
      buildMs: number;
      countUs: number;
      before: ReturnType<typeof memory>;
      after: ReturnType<typeof memory>;
      counts: number[];
    };
  });
  const [ref, compact] = results as [(typeof results)[0], (typeof results)[0]];
  const mismatches = ref.counts.filter((c, i) => c !== compact.counts[i]).length;
  console.log(`cl100k token counter, ${ref.counts.length} texts (MB after GC; RSS includes the peak the build left behind)`);
  console.log('variant        +RSS  heapUsed  build ms  µs/count');
  for (const r of results) {
    console.log(
      `${r.variant.padEnd(12)} ${(r.after.rss - r.before.rss).toFixed(1).padStart(6)}  ${(r.after.heapUsed - r.before.heapUsed).toFixed(1).padStart(8)}  ${r.buildMs.toFixed(0).padStart(8)}  ${r.countUs.toFixed(1).padStart(8)}`,
    );
  }
  console.log(`identical counts: ${ref.counts.length - mismatches}/${ref.counts.length}`);
}
