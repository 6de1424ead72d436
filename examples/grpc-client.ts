// A gRPC client for moma.v1.Router, using the ts-proto client generated from proto/.
//   node examples/grpc-client.ts route "Write a Python function that reverses a list"
//   node examples/grpc-client.ts chat  "What is the capital of France?" [--mode quality|balanced|cost] [--addr 127.0.0.1:50051]
//   node examples/grpc-client.ts models
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { ChatRequest, Decision, RouterClient, RoutingMode, TargetKind, type Target } from '@moma/proto';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    addr: { type: 'string', default: process.env.MOMA_GRPC_ADDR ?? '127.0.0.1:50051' },
    mode: { type: 'string', default: 'balanced' },
    session: { type: 'string', default: '' },
  },
});
const [command = 'route', ...words] = positionals;
const modes: Record<string, RoutingMode> = {
  quality: RoutingMode.ROUTING_MODE_QUALITY,
  balanced: RoutingMode.ROUTING_MODE_BALANCED,
  cost: RoutingMode.ROUTING_MODE_COST,
};
const mode = modes[values.mode];
if (mode === undefined) throw new Error(`--mode must be one of ${Object.keys(modes).join(', ')}`);

/** A target as MoMA shows it: "llm:<model>" or "agent:<id>". */
const show = (t: Target | undefined) => (t ? `${t.kind === TargetKind.TARGET_KIND_AGENT ? 'agent' : 'llm'}:${t.id}` : '-');

const client = new RouterClient(values.addr, credentials.createInsecure());
const request: ChatRequest = ChatRequest.fromPartial({
  sessionId: values.session,
  messages: [{ role: 'user', content: words.join(' ') || 'What is the capital of France?' }],
  options: { mode, allowedModels: [], deniedModels: [], disableAgents: false, tenant: '' },
  switchTo: '',
  maxTokens: 0,
});

if (command === 'route') {
  client.route(request, (err, res) => {
    if (err) return fail(err);
    console.log(JSON.stringify(res.decision && Decision.toJSON(res.decision), null, 2));
    client.close();
  });
} else if (command === 'chat') {
  const stream = client.chat(request);
  stream.on('data', (ev) => {
    if (ev.decision) console.error(`→ ${show(ev.decision.target)} (${ev.decision.reason})`);
    if (ev.delta) process.stdout.write(ev.delta);
    if (ev.fallback) console.error(`\n↪ fallback after ${show(ev.fallback)}`);
    if (ev.usage) console.error(`\n[served by ${show(ev.usage.servedBy)}: ${ev.usage.promptTokens}+${ev.usage.completionTokens} tokens, $${ev.usage.costUsd.toFixed(6)}]`);
  });
  stream.on('error', fail);
  stream.on('end', () => client.close());
} else if (command === 'models') {
  client.listModels({}, (err, res) => {
    if (err) return fail(err);
    for (const m of res.models) console.log(`${m.id}\tin $${m.inputPricePerMtok}/M\tout $${m.outputPricePerMtok}/M`);
    client.close();
  });
} else {
  throw new Error(`unknown command ${command}; use route, chat or models`);
}

function fail(err: Error & { code?: number; details?: string }): void {
  console.error(`error ${err.code ?? ''}: ${err.details ?? err.message}`);
  process.exitCode = 1;
  client.close();
}
