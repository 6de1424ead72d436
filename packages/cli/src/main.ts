#!/usr/bin/env node
// The `moma` command: dispatches subcommands (each module loaded only when used).

const USAGE = `usage: moma <command> [options]
  data         import RouterBench / RouteLLM / LLMRouter files to the routing-data format; check data
  profile      profile your model pool (answers + LLM-as-judge) into routing data
  pool         add a model to a trained router without retraining (or remove one)
  train        train the LLM router and write an artifact
  eval         evaluate LLM routing against baselines (AIQ, APGR, CPT)
  eval-agents  evaluate agent routing
  docs         regenerate docs/results from the evaluations
  publish      publish a router artifact
  keys         create, list and revoke API keys (the gateway's admin API)
Run "moma <command> --help" for options.`;

type Runner = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Runner>> = {
  data: async () => (await import('./data/command.ts')).runData,
  profile: async () => (await import('./profile/index.ts')).runProfile,
  pool: async () => (await import('./pool.ts')).runPool,
  train: async () => (await import('./train.ts')).runTrain,
  eval: async () => (await import('./eval.ts')).runEval,
  docs: async () => (await import('./docs.ts')).runDocs,
  'eval-agents': async () => (await import('./eval-agents/index.ts')).runEvalAgents,
  publish: async () => (await import('./publish.ts')).runPublish,
  keys: async () => (await import('./keys.ts')).runKeys,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    console.error(`unknown command "${cmd}"\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? `moma: ${err.message}` : err);
    process.exitCode = 1;
  },
);
