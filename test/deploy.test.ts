// deploy/: every overlay and every component renders with kubectl's kustomize; each rendered object passes the
// Kubernetes schemas bundled in npm packages and has no field its schema does not know; the production overlay has
// what a platform review asks for (disruption budgets, hard spread, HPAs on each stage's limiting metric, KEDA on
// consumer lag, a 3-node JetStream cluster on volumes, Redis by URL, monitors and alerts, images by digest); the
// alert rules pass promtool and fire on the series they are meant for; the NATS configurations pass nats-server -t.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { checkUnknownFields, deployRoot, kubectlAvailable, render, renderTargets, validateSchemas, type K8sObject } from '../deploy/k8s-check.ts';
import { checkDeploy } from '../deploy/validate.ts';
import { USAGE_CONSUMER } from '../services/orchestrator/src/app.ts';
import { EVENTS_STREAM } from '@moma/platform';

const has = (cmd: string, ...args: string[]): boolean => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
const kubectl = kubectlAvailable();
const STAGES = ['gateway', 'executor', 'intent', 'orchestrator', 'scoring'];
type Any = Record<string, any>;

const find = (objs: K8sObject[], kind: string, name: string): Any | undefined => objs.find((o) => o.kind === kind && o.metadata?.name === name);

describe.skipIf(!kubectl)(`deploy - kustomize renders and every object passes the bundled schemas${kubectl ? '' : ' (skipped: kubectl not on PATH)'}`, () => {
  const rendered = new Map<string, K8sObject[]>();
  const get = (name: string): K8sObject[] => {
    if (!rendered.has(name)) rendered.set(name, render(renderTargets().find((t) => t.name === name)!));
    return rendered.get(name)!;
  };

  it.each(renderTargets().map((t) => [t.name]))('%s: renders, validates, has no unknown field', async (name) => {
    const objs = get(name);
    expect(objs.length).toBeGreaterThan(20);
    expect(await validateSchemas(objs)).toEqual([]);
    expect(checkUnknownFields(objs)).toEqual([]);
    // Every object lands in the namespace (but the namespace itself).
    for (const o of objs) if (o.kind !== 'Namespace') expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).toBe('moma');
  });

  it('the checks reject what they should: an unknown field, a wrong type, an unknown kind', async () => {
    const deployment = structuredClone(find(get('base'), 'Deployment', 'gateway')) as Any;
    deployment.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    expect(checkUnknownFields([deployment as K8sObject])).toEqual([expect.stringMatching(/Deployment\/gateway: .*'"imagePullPolicyy"' does not exist in type 'IContainer'/)]);
    const typed = structuredClone(find(get('base'), 'Deployment', 'gateway')) as Any;
    typed.spec.replicas = 'two';
    expect(await validateSchemas([typed as K8sObject])).toEqual([expect.stringMatching(/spec\/replicas must be integer/)]);
    expect(await validateSchemas([{ apiVersion: 'example.io/v1', kind: 'Widget', metadata: { name: 'w' } }])).toEqual([
      'Widget/w: no schema for example.io/v1 Widget',
    ]);
  });

  it('deploy/validate.ts passes: hardening of every rendered workload, kustomizations, provider files', async () => {
    const { problems, summary } = await checkDeploy();
    expect(problems).toEqual([]);
    expect(summary).toContain('overlays/production');
  });

  it('production: each stage has a disruption budget, a hard spread over nodes and a soft one over zones', () => {
    const objs = get('overlays/production');
    for (const name of STAGES) {
      const pdb = find(objs, 'PodDisruptionBudget', name);
      expect(pdb?.spec.maxUnavailable, name).toBe(1);
      expect(pdb?.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': name });
      const spread = find(objs, 'Deployment', name)!.spec.template.spec.topologySpreadConstraints as Any[];
      expect(spread.map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
        ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
        ['kubernetes.io/hostname', 'DoNotSchedule'],
      ]);
      for (const c of spread) expect(c.labelSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': name });
    }
    // The base keeps the spread soft so it schedules on a one-node cluster.
    const base = find(get('base'), 'Deployment', 'executor')!.spec.template.spec.topologySpreadConstraints as Any[];
    expect(base.every((c) => c.whenUnsatisfiable === 'ScheduleAnyway')).toBe(true);
  });

  it('production: the executor scales on in-flight requests, the gateway on requests/s, intent and scoring on CPU, the orchestrator by KEDA on consumer lag', () => {
    const objs = get('overlays/production');
    const metricsOf = (name: string): string[] =>
      (find(objs, 'HorizontalPodAutoscaler', name)?.spec.metrics as Any[] | undefined)?.map((m) => m.pods?.metric.name ?? m.resource?.name) ?? [];
    expect(metricsOf('executor')).toEqual(['moma_executor_inflight_requests']);
    expect(metricsOf('gateway')[0]).toBe('moma_gateway_requests_per_second');
    expect(metricsOf('intent')).toEqual(['cpu']);
    expect(metricsOf('scoring')).toEqual(['cpu']);
    // KEDA owns the orchestrator's HPA: the plain one is gone, the ScaledObject reads the real consumer.
    expect(find(objs, 'HorizontalPodAutoscaler', 'orchestrator')).toBeUndefined();
    const so = find(objs, 'ScaledObject', 'orchestrator')!;
    expect(so.spec.scaleTargetRef.name).toBe('orchestrator');
    const nats = (so.spec.triggers as Any[]).find((t) => t.type === 'nats-jetstream')!;
    expect(nats.metadata).toMatchObject({ stream: EVENTS_STREAM, consumer: USAGE_CONSUMER });
    expect(nats.metadata.natsServerMonitoringEndpoint).toBe('nats-headless.moma.svc.cluster.local:8222');
    expect(find(objs, 'Service', 'nats-headless')?.spec.ports.map((p: Any) => p.port)).toContain(8222);
    // The adapter rules serve the two custom metrics the HPAs read, from series the services export.
    const adapter = readFileSync(join(deployRoot, 'k8s/components/autoscaling/prometheus-adapter.values.yaml'), 'utf8');
    expect(adapter).toContain('as: "moma_gateway_requests_per_second"');
    expect(adapter).toContain("seriesQuery: 'moma_executor_inflight_requests{");
  });

  it('production: NATS is a 3-node JetStream cluster on volumes, events replicated 3×; Redis and tracing come by URL', () => {
    const objs = get('overlays/production');
    const nats = find(objs, 'StatefulSet', 'nats')!;
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.serviceName).toBe('nats-headless');
    expect(nats.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('10Gi');
    expect(nats.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe('kubernetes.io/hostname');
    expect(find(objs, 'PodDisruptionBudget', 'nats')?.spec.maxUnavailable).toBe(1);
    const conf = (find(objs, 'ConfigMap', nats.spec.template.spec.volumes.find((v: Any) => v.name === 'config').configMap.name) as Any).data['nats.conf'];
    expect(conf).toMatch(/cluster \{[\s\S]*nats-2\.nats-headless:6222/);
    const env = objs.find((o) => o.kind === 'ConfigMap' && o.metadata?.name?.startsWith('moma-env')) as Any;
    expect(env.data.NATS_EVENTS_REPLICAS).toBe('3');
    expect(env.data.OTEL_EXPORTER_OTLP_ENDPOINT).not.toContain('jaeger');
    expect(find(objs, 'StatefulSet', 'redis')).toBeUndefined();
    expect(find(objs, 'Deployment', 'jaeger')).toBeUndefined();
    // The two services that keep state in Redis take its URL from the Secret; the stateless three never connect.
    for (const name of STAGES) {
      const redis = (find(objs, 'Deployment', name)!.spec.template.spec.containers[0].env as Any[]).find((e) => e.name === 'REDIS_URL');
      if (name === 'orchestrator' || name === 'executor') expect(redis?.valueFrom.secretKeyRef, name).toEqual({ name: 'moma-redis', key: 'REDIS_URL' });
      else expect(redis, name).toBeUndefined();
    }
    // The network policies let the servers route to each other and KEDA read the monitor port.
    const policy = find(objs, 'NetworkPolicy', 'nats-ingress')!;
    expect(policy.spec.ingress.flatMap((r: Any) => r.ports.map((p: Any) => p.port))).toEqual([4222, 6222, 8222]);
  });

  it('base: Redis persists (AOF) with maxmemory under its container limit', () => {
    const redis = find(get('base'), 'StatefulSet', 'redis')!;
    const c = redis.spec.template.spec.containers[0];
    const args = c.args as string[];
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    const mb = Number(/^(\d+)mb$/.exec(args[args.indexOf('--maxmemory') + 1]!)?.[1]);
    const limitMi = Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1]);
    expect(mb).toBeGreaterThan(0);
    expect(mb).toBeLessThanOrEqual(limitMi * 0.8);
    expect(redis.spec.volumeClaimTemplates[0].metadata.name).toBe(c.volumeMounts.find((m: Any) => m.mountPath === '/data').name);
  });

  it('production: every image is referenced by digest', () => {
    const images = get('overlays/production').flatMap((o) => ((o as Any).spec?.template?.spec?.containers as Any[] | undefined)?.map((c) => c.image as string) ?? []);
    expect(images.length).toBeGreaterThanOrEqual(6);
    for (const image of images) expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('ingress and Gateway API examples route HTTP to the gateway http port and gRPC to its grpc port', () => {
    const ing = get('base + components/ingress');
    expect(find(ing, 'Ingress', 'moma-http')!.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'gateway', port: { name: 'http' } });
    expect(find(ing, 'Ingress', 'moma-grpc')!.metadata.annotations['nginx.ingress.kubernetes.io/backend-protocol']).toBe('GRPC');
    const gw = get('base + components/gateway-api');
    const service = find(gw, 'Service', 'gateway')!.spec.ports as Any[];
    const port = (name: string): number => service.find((p) => p.name === name)!.port;
    expect(find(gw, 'HTTPRoute', 'moma-http')!.spec.rules[0].backendRefs[0]).toEqual({ name: 'gateway', port: port('http') });
    expect(find(gw, 'GRPCRoute', 'moma-grpc')!.spec.rules[0].backendRefs[0]).toEqual({ name: 'gateway', port: port('grpc') });
  });
});

const promtool = has('promtool', '--version');
describe.skipIf(!kubectl || !promtool)(
  `deploy - the PrometheusRule passes promtool and its alerts fire on the series they watch${kubectl && promtool ? '' : ' (skipped: needs kubectl and promtool)'}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'moma-rules-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const rule = (): Any => find(render(renderTargets().find((t) => t.name === 'base + components/monitoring')!), 'PrometheusRule', 'moma')!;

    it('promtool check rules', () => {
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule().spec.groups }));
      const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
      expect(r.status).toBe(0);
    });

    it('every metric the rules use is one the services export (docs/operations.md catalogue)', () => {
      const catalogue = readFileSync(join(deployRoot, '..', 'docs', 'operations.md'), 'utf8');
      const used = new Set(JSON.stringify(rule().spec.groups).match(/moma_[a-z_]+/g)!.map((m) => m.replace(/_(bucket|sum|count)$/, '')));
      expect(used.size).toBeGreaterThan(5);
      for (const m of used) expect(catalogue, m).toContain(`\`${m}\``);
    });

    it('promtool test rules: error ratio, breaker open and budget exhausted fire, and stay quiet when healthy', () => {
      const groups = rule().spec.groups as Any[];
      writeFileSync(join(dir, 'rules.yaml'), stringify({ groups }));
      // What an alert should carry: its labels plus its annotations rendered for those labels (and the value).
      const expected = (alert: string, labels: Record<string, string>, value = ''): Any => {
        const def = groups.flatMap((g) => g.rules as Any[]).find((r) => r.alert === alert)!;
        const render = (v: string): string =>
          v.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? '').replace(/\{\{ \$value \| humanizePercentage \}\}/g, value);
        return {
          exp_labels: { severity: def.labels.severity, ...labels },
          exp_annotations: Object.fromEntries(Object.entries(def.annotations as Record<string, string>).map(([k, v]) => [k, render(v)])),
        };
      };
      const tests = {
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // 10% of chat requests fail with 503.
              { series: 'moma_gateway_requests_total{door="openai",route="/v1/chat/completions",status="200"}', values: '0+90x30' },
              { series: 'moma_gateway_requests_total{door="openai",route="/v1/chat/completions",status="503"}', values: '0+10x30' },
              // One breaker opens at minute 2, another stays closed.
              { series: 'moma_circuit_breaker_state{provider="openai",model="gpt-4o"}', values: '0 0 2x20' },
              { series: 'moma_circuit_breaker_state{provider="local",model="llama"}', values: '0x22' },
              // One tenant's budget runs out at minute 2, another's does not.
              { series: 'moma_budget_remaining_usd{holder="tenant",id="acme"}', values: '5 3 0x10' },
              { series: 'moma_budget_remaining_usd{holder="tenant",id="globex"}', values: '50x12' },
            ],
            alert_rule_test: [
              { eval_time: '25m', alertname: 'MomaHighErrorRatio', exp_alerts: [expected('MomaHighErrorRatio', {}, '10%')] },
              { eval_time: '3m', alertname: 'MomaCircuitBreakerOpen', exp_alerts: [] },
              { eval_time: '20m', alertname: 'MomaCircuitBreakerOpen', exp_alerts: [expected('MomaCircuitBreakerOpen', { provider: 'openai', model: 'gpt-4o' })] },
              { eval_time: '1m', alertname: 'MomaBudgetExhausted', exp_alerts: [] },
              { eval_time: '8m', alertname: 'MomaBudgetExhausted', exp_alerts: [expected('MomaBudgetExhausted', { holder: 'tenant', id: 'acme' })] },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
      const r = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8', cwd: dir });
      expect(r.stdout + r.stderr).toContain('SUCCESS');
      expect(r.status).toBe(0);
    });
  },
);

const natsServer = has('nats-server', '--version');
describe.skipIf(!natsServer)(`deploy - NATS configurations pass nats-server -t${natsServer ? '' : ' (skipped: nats-server not on PATH)'}`, () => {
  it.each([['k8s/base/config/nats.conf'], ['k8s/components/nats-cluster/nats.conf']])('%s', (file) => {
    const r = spawnSync('nats-server', ['-c', join(deployRoot, file), '-t'], { encoding: 'utf8', env: { ...process.env, SERVER_NAME: 'nats-0' } });
    expect(r.stdout + r.stderr).toContain('is valid');
    expect(r.status).toBe(0);
  });
});
