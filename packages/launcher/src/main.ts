// `pnpm start`: the whole system on one machine. NATS_URL and REDIS_URL set → each service its own process on them;
// otherwise one process with in-memory bus and store (and a demo provider when none is configured).
import { createLogger } from '@moma/platform';
import { loadLauncherConfig } from './config.ts';
import { startEmbedded } from './embedded.ts';
import { healthPorts, SERVICES, spawnFleet, waitFleetHealthy, type ServiceName } from './processes.ts';

const log = createLogger('launcher');

function printUrls(httpUrl: string, grpcAddr: string, mode: string): void {
  const lines = [
    '',
    `MoMA is running (${mode} mode)`,
    `  HTTP (OpenAI-compatible): ${httpUrl}/v1/chat/completions   models: ${httpUrl}/v1/models   health: ${httpUrl}/healthz`,
    `  gRPC (moma.v1.Router, moma.v1.AgentRegistry, reflection + health): ${grpcAddr}`,
    '  try:',
    `    curl -s ${httpUrl}/v1/chat/completions -H 'content-type: application/json' \\`,
    `      -d '{"model":"moma/auto","messages":[{"role":"user","content":"What is 2+2?"}]}'`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function distributed(config: ReturnType<typeof loadLauncherConfig>): Promise<void> {
  let died = false;
  // The last lines of each service, to say why one did not come up.
  const tail = new Map<ServiceName, string[]>(SERVICES.map((n) => [n, []]));
  const env = { ...config.env };
  if (env.HEALTH_PORT) {
    // One HEALTH_PORT for five processes would put them all on one port.
    log.warn({ HEALTH_PORT: env.HEALTH_PORT }, 'HEALTH_PORT is ignored in distributed mode: set GATEWAY_HEALTH_PORT, INTENT_HEALTH_PORT, ORCHESTRATOR_HEALTH_PORT, SCORING_HEALTH_PORT or EXECUTOR_HEALTH_PORT to move one service\'s port');
    delete env.HEALTH_PORT;
  }
  const ports = healthPorts(env);
  const fleet = spawnFleet(
    env,
    (name, code, signal) => {
      died = true;
      log.error({ failed: name, code, signal, lastLines: tail.get(name) }, `${name} exited (code ${code ?? signal}); stopping the others (nothing is restarted)`);
      fleet.stop();
    },
    {
      onLine: (name, line) => {
        const t = tail.get(name)!;
        t.push(line);
        if (t.length > 15) t.shift();
        process.stdout.write(`${name.padEnd(12)}| ${line}\n`);
      },
    },
  );
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => fleet.stop('SIGTERM'));

  const httpUrl = `http://127.0.0.1:${config.GATEWAY_HTTP_PORT}`;
  const state = await waitFleetHealthy(ports, config.MOMA_BOOT_TIMEOUT_MS, () => died);
  const unhealthy = SERVICES.filter((n) => !state[n].ok);
  if (unhealthy.length === 0 && !died) printUrls(httpUrl, `127.0.0.1:${config.GATEWAY_GRPC_PORT}`, 'distributed: NATS + Redis');
  else if (!died) {
    for (const n of unhealthy) {
      log.error({ failed: n, healthPort: ports[n], lastHealth: state[n].detail, lastLines: tail.get(n) }, `${n} did not become healthy within ${config.MOMA_BOOT_TIMEOUT_MS} ms: ${state[n].detail}`);
    }
    log.error({ unhealthy }, `stopping: ${unhealthy.join(', ')} not healthy in time`);
    died = true;
    fleet.stop();
  }
  const code = await fleet.exited;
  process.exit(died ? code || 1 : code);
}

async function embedded(config: ReturnType<typeof loadLauncherConfig>): Promise<void> {
  if (config.NATS_URL || config.REDIS_URL) {
    log.warn({}, 'only one of NATS_URL / REDIS_URL is set; set both for distributed mode. Running embedded.');
  }
  const system = await startEmbedded(config.env, config.needsDemoProvider, { healthPort: config.MOMA_HEALTH_PORT, healthHost: config.MOMA_HEALTH_HOST });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    system.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  printUrls(system.gateway.httpUrl, system.gateway.grpcAddr, system.demo ? `embedded, DEMO provider at ${system.demo.url}` : 'embedded');
  if (system.health) process.stdout.write(`  metrics (Prometheus): http://${config.MOMA_HEALTH_HOST}:${system.health.port}/metrics\n\n`);
}

const config = loadLauncherConfig();
(config.mode === 'distributed' ? distributed(config) : embedded(config)).catch((err: unknown) => {
  log.error({ err }, 'launcher failed to start');
  process.exit(1);
});
