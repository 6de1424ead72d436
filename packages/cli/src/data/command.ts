// `moma data import|check`: RouterBench, RouteLLM and LLMRouter files to the routing-data format, and validation.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importFile, type SourceFormat } from './import.ts';
import { dataFiles, loadDataset } from './load.ts';
import { readPrices } from './prices.ts';

const USAGE = `usage: moma data <import|check> [options]

  moma data import SRC... --out FILE [--from routerbench|routellm|llmrouter] [--prices FILE]
      converts source files (format detected from their rows) to routing-data JSONL
      (schemas/routing-data.schema.json); a model without a price fails unless --prices gives it
  moma data check PATH... [--prices FILE] [--json]
      validates routing data (files or folders) and prints rows, models, tasks and splits

  --prices FILE   {"<model>": {"input": USD per 1M tokens, "output": ...}} or a MOMA_PROVIDERS-style provider list
                  (default: the prices in $MOMA_PROVIDERS, if set)`;

const FORMATS: readonly SourceFormat[] = ['routerbench', 'routellm', 'llmrouter'];

export async function runData(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        from: { type: 'string' },
        prices: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: o, positionals } = parsed;
  const [action, ...paths] = positionals;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (o.from !== undefined && !FORMATS.includes(o.from as SourceFormat)) {
    console.error(`--from must be one of ${FORMATS.join(', ')}\n${USAGE}`);
    return 2;
  }
  if ((action !== 'import' && action !== 'check') || paths.length === 0 || (action === 'import' && !o.out)) {
    console.error(USAGE);
    return 2;
  }
  try {
    const prices = readPrices(o.prices);
    if (action === 'import') {
      const lines: string[] = [];
      for (const p of paths) {
        for (const f of dataFiles(p)) {
          const res = importFile(f, { ...(o.from ? { from: o.from as SourceFormat } : {}), ...(prices ? { prices } : {}) });
          for (const r of res.rows) lines.push(JSON.stringify(r));
          console.error(`${f}: ${res.format}, ${res.rows.length} rows. ${res.notes.join('. ')}`);
        }
      }
      writeFileSync(o.out!, `${lines.join('\n')}\n`);
      // Loading what was written checks it as `moma train` will (ids unique across the files, prices, splits).
      const ds = loadDataset(o.out!, prices ? { prices } : {});
      console.error(`wrote ${o.out}: ${ds.rows.length} rows, ${ds.models.length} models, ${ds.evals.length} tasks`);
      return 0;
    }
    const ds = loadDataset(paths, prices ? { prices } : {});
    const split = { train: ds.rows.filter((r) => r.split === 'train').length, test: ds.rows.filter((r) => r.split === 'test').length };
    const summary = {
      dataset: ds.name,
      format: ds.format,
      rows: ds.rows.length,
      split,
      models: ds.models.map((m) => ({ id: m.id, input_per_mtok: m.inputPricePerMTok, output_per_mtok: m.outputPricePerMTok })),
      tasks: Object.fromEntries(ds.evals.map((t) => [t, ds.rows.filter((r) => r.task === t).length])),
      notes: ds.notes,
    };
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      console.log(`${ds.name} (${ds.format}): ${ds.rows.length} rows, train ${split.train}, test ${split.test}`);
      for (const m of summary.models) console.log(`  model ${m.id}: $${m.input_per_mtok.toPrecision(3)}/M in, $${m.output_per_mtok.toPrecision(3)}/M out`);
      console.log(`  tasks: ${Object.entries(summary.tasks).map(([t, n]) => `${t} (${n})`).join(', ')}`);
      for (const n of ds.notes) console.log(`  note: ${n}`);
    }
    return 0;
  } catch (e) {
    console.error(`moma data: ${(e as Error).message}`);
    return 1;
  }
}
