// Offline checks for deploy/ (no cluster needed): every YAML file parses, every kustomization's resources and
// generator files exist, each workload is hardened (non-root, read-only root FS, no capabilities, seccomp,
// requests/limits, probes, the five services' /metrics scrape port), the provider files pass the executor's own
// validation, and — with kubectl installed — every overlay and every component renders and each rendered object
// passes the bundled Kubernetes schemas with no unknown field (deploy/k8s-check.ts).
//   node deploy/validate.ts
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parseProviders } from '../services/executor/src/config.ts';
import { checkUnknownFields, deployRoot, kubectlAvailable, render, renderTargets, validateSchemas, type K8sObject } from './k8s-check.ts';

const root = deployRoot;
const repo = resolve(root, '..');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, ...path: Array<string | number>): unknown =>
  path.reduce<unknown>((o, k) => (isObj(o) || Array.isArray(o) ? (o as Record<string | number, unknown>)[k] : undefined), v);

let problems: string[] = [];
const fail = (file: string, msg: string): void => {
  problems.push(`${relative(repo, file)}: ${msg}`);
};

function checkWorkload(file: string, doc: Obj): void {
  const name = String(get(doc, 'metadata', 'name'));
  const pod = get(doc, 'spec', 'template', 'spec');
  if (!isObj(pod)) return fail(file, `${name}: no pod template`);
  if (get(pod, 'securityContext', 'runAsNonRoot') !== true) fail(file, `${name}: pod securityContext.runAsNonRoot must be true`);
  if (get(pod, 'securityContext', 'seccompProfile', 'type') !== 'RuntimeDefault') fail(file, `${name}: seccompProfile RuntimeDefault missing`);
  if (pod.automountServiceAccountToken !== false) fail(file, `${name}: automountServiceAccountToken should be false`);
  const selector = get(doc, 'spec', 'selector', 'matchLabels');
  const labels = get(doc, 'spec', 'template', 'metadata', 'labels');
  for (const [k, v] of Object.entries(isObj(selector) ? selector : {})) {
    if (get(labels, k) !== v) fail(file, `${name}: selector ${k}=${String(v)} does not match the pod labels`);
  }
  for (const c of (pod.containers as unknown[]) ?? []) {
    const cname = `${name}/${String(get(c, 'name'))}`;
    const sc = get(c, 'securityContext');
    if (get(sc, 'readOnlyRootFilesystem') !== true) fail(file, `${cname}: readOnlyRootFilesystem must be true`);
    if (get(sc, 'allowPrivilegeEscalation') !== false) fail(file, `${cname}: allowPrivilegeEscalation must be false`);
    const drop = get(sc, 'capabilities', 'drop');
    if (!Array.isArray(drop) || !drop.includes('ALL')) fail(file, `${cname}: capabilities must drop ALL`);
    for (const k of ['requests', 'limits']) {
      if (!get(c, 'resources', k, 'cpu') || !get(c, 'resources', k, 'memory')) fail(file, `${cname}: resources.${k} needs cpu and memory`);
    }
    if (!get(c, 'readinessProbe') || !get(c, 'livenessProbe')) fail(file, `${cname}: readiness and liveness probes required`);
    const portNames = new Set(((get(c, 'ports') as unknown[]) ?? []).map((p) => get(p, 'name')));
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const port = get(c, probe, 'httpGet', 'port') ?? get(c, probe, 'tcpSocket', 'port');
      if (typeof port === 'string' && !portNames.has(port)) fail(file, `${cname}: ${probe} uses unknown port name ${port}`);
    }
  }
  // The five MoMA services serve /metrics on HEALTH_PORT: the scrape annotations, a `health` container port and
  // the HEALTH_PORT variable must name the same port.
  if (['edge', 'stage'].includes(String(get(labels, 'app.kubernetes.io/component')))) {
    const ann = get(doc, 'spec', 'template', 'metadata', 'annotations');
    const c = ((pod.containers as unknown[]) ?? [])[0];
    const healthPort = ((get(c, 'ports') as unknown[]) ?? []).find((p) => get(p, 'name') === 'health');
    const envPort = ((get(c, 'env') as unknown[]) ?? []).find((e) => get(e, 'name') === 'HEALTH_PORT');
    if (get(ann, 'prometheus.io/scrape') !== 'true' || get(ann, 'prometheus.io/path') !== '/metrics') {
      fail(file, `${name}: pod template needs prometheus.io/scrape "true" and prometheus.io/path /metrics`);
    } else if (!healthPort || String(get(healthPort, 'containerPort')) !== get(ann, 'prometheus.io/port') || get(envPort, 'value') !== get(ann, 'prometheus.io/port')) {
      fail(file, `${name}: prometheus.io/port, the "health" container port and HEALTH_PORT must be the same port`);
    }
  }
}

function checkKustomization(file: string, doc: Obj): void {
  const dir = dirname(file);
  for (const key of ['resources', 'components']) {
    for (const r of (doc[key] as string[] | undefined) ?? []) {
      if (!existsSync(join(dir, r))) fail(file, `${key} entry ${r} does not exist`);
    }
  }
  for (const gen of [...((doc.configMapGenerator as Obj[] | undefined) ?? []), ...((doc.secretGenerator as Obj[] | undefined) ?? [])]) {
    for (const f of (gen.files as string[] | undefined) ?? []) {
      const path = join(dir, f.includes('=') ? f.split('=')[1]! : f);
      if (!existsSync(path)) fail(file, `generator ${String(gen.name)} file ${f} does not exist`);
    }
  }
}

/** Every check; the problems found (none = pass) and a one-line summary. */
export async function checkDeploy(): Promise<{ problems: string[]; summary: string }> {
  problems = [];
  const files = walk(root).filter((f) => /\.ya?ml$/.test(f));
  let docs = 0;
  for (const file of files) {
    const parsed = parseAllDocuments(readFileSync(file, 'utf8'));
    for (const d of parsed) {
      if (d.errors.length > 0) {
        fail(file, `YAML error: ${String(d.errors[0])}`);
        continue;
      }
      const doc = d.toJS();
      if (doc === null || doc === undefined) continue;
      docs++;
      if (!isObj(doc)) {
        fail(file, 'document is not a mapping');
        continue;
      }
      if (file.endsWith('compose.yaml')) {
        if (!isObj(doc.services)) fail(file, 'no services');
        continue;
      }
      // Helm values for a chart the cluster runs beside MoMA (prometheus-adapter), not a Kubernetes object.
      if (file.endsWith('.values.yaml')) continue;
      if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
        fail(file, 'missing apiVersion/kind');
        continue;
      }
      if (doc.kind === 'Kustomization' || doc.kind === 'Component') checkKustomization(file, doc);
      if (doc.kind === 'Deployment' || doc.kind === 'StatefulSet') checkWorkload(file, doc);
    }
  }
  for (const file of walk(root).filter((f) => /providers[^/]*\.json$/.test(f))) {
    try {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      // The keys come from a Secret at run time: the shape is checked here with a placeholder for each named variable.
      const keys = Array.isArray(raw) ? raw.flatMap((p) => (typeof p?.apiKeyEnv === 'string' ? [[p.apiKeyEnv, 'placeholder']] : [])) : [];
      parseProviders(raw, Object.fromEntries(keys), relative(repo, file));
    } catch (err) {
      fail(file, (err as Error).message);
    }
  }

  // kustomize (through kubectl) parses with go-yaml, which is stricter than the JS parser, and resolves generators
  // and components: render every target, offline, and check what comes out.
  let rendered = 'kubectl not found: kustomize render and schema checks skipped';
  if (kubectlAvailable()) {
    const counts: string[] = [];
    for (const target of renderTargets()) {
      let objects: K8sObject[];
      try {
        objects = render(target);
      } catch (err) {
        fail(join(root, 'k8s'), (err as Error).message);
        continue;
      }
      counts.push(`${target.name}: ${objects.length}`);
      const where = target.dir ?? join(root, 'k8s', 'components', target.components!.at(-1)!);
      for (const p of [...(await validateSchemas(objects)), ...checkUnknownFields(objects)]) fail(where, p);
      for (const o of objects) if (o.kind === 'Deployment' || o.kind === 'StatefulSet') checkWorkload(where, o);
    }
    rendered = `rendered and schema-checked (${counts.join(', ')})`;
  }
  return { problems, summary: `deploy/: ${files.length} YAML files, ${docs} documents — all parse and pass the checks; ${rendered}` };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { problems: found, summary } = await checkDeploy();
  if (found.length > 0) {
    console.error(`deploy/: ${found.length} problem(s)\n  ${found.join('\n  ')}`);
    process.exit(1);
  }
  console.log(summary);
}
