// Runs `moma eval-agents` without the CLI dispatcher: node packages/cli/src/eval-agents/main-standalone.ts --clinc ... --sgd ...
import { runEvalAgents } from './index.ts';

process.exitCode = await runEvalAgents(process.argv.slice(2));
