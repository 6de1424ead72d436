// Renders the kustomize entry points under deploy/k8s and checks every object they produce against the Kubernetes
// schemas bundled in npm packages (kubernetes-models for the built-in kinds, @kubernetes-models/* for the
// Prometheus Operator, KEDA and Gateway API kinds):
//   - at run time with each model's validate() (types, formats, required fields), and
//   - strictly on unknown fields by type-checking the rendered objects against the same packages' TypeScript
//     interfaces: an object literal with a field its interface does not declare is a compile error (the
//     bundled JSON schemas do not forbid additional properties, the interfaces do).
// Used by deploy/validate.ts and test/deploy.test.ts; needs `kubectl` (its built-in kustomize) on PATH.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import ts from 'typescript';

export const deployRoot = dirname(fileURLToPath(import.meta.url));
const repo = resolve(deployRoot, '..');
const k8s = join(deployRoot, 'k8s');

export type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } } & Record<string, unknown>;

/** What can be rendered: each overlay, the base, and the base with each component (after those it must follow). */
export interface RenderTarget {
  name: string;
  /** An overlay or the base: a directory with a kustomization. */
  dir?: string;
  /** Components applied, in order, over the base. */
  components?: string[];
}

/** Components that act on objects another component adds, so they are rendered after it (as the production overlay lists them). */
const COMPONENT_NEEDS: Record<string, string[]> = { keda: ['autoscaling'] };

export function renderTargets(): RenderTarget[] {
  const overlays = readdirSync(join(k8s, 'overlays')).map((o) => ({ name: `overlays/${o}`, dir: join(k8s, 'overlays', o) }));
  const components = readdirSync(join(k8s, 'components')).map((c) => ({
    name: `base + components/${[...(COMPONENT_NEEDS[c] ?? []), c].join(' + ')}`,
    components: [...(COMPONENT_NEEDS[c] ?? []), c],
  }));
  return [{ name: 'base', dir: join(k8s, 'base') }, ...overlays, ...components];
}

export const kubectlAvailable = (): boolean => spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/** `kubectl kustomize` of one target (a component is rendered through a temporary kustomization over the base). */
export function render(target: RenderTarget): K8sObject[] {
  let dir = target.dir;
  let tmp: string | undefined;
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'moma-kustomize-'));
    // kustomize takes relative paths only; the temporary root reaches the repository through them.
    const rel = (p: string): string => relative(tmp!, p);
    writeFileSync(
      join(tmp, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        // As an overlay sets it: objects a component adds land in the namespace too.
        'namespace: moma',
        'resources:',
        `  - ${rel(join(k8s, 'base'))}`,
        'components:',
        ...(target.components ?? []).map((c) => `  - ${rel(join(k8s, 'components', c))}`),
        '',
      ].join('\n'),
    );
    dir = tmp;
  }
  try {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`kubectl kustomize ${target.name} failed: ${r.stderr.trim() || r.error?.message}`);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((d): d is K8sObject => d !== null);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The npm module holding the model of apiVersion + kind. */
export function modelModule(apiVersion: string, kind: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (!/^[A-Za-z]+$/.test(kind) || !version) return undefined;
  switch (group) {
    case 'monitoring.coreos.com':
      return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
    case 'keda.sh':
      return `@kubernetes-models/keda/${group}/${version}/${kind}`;
    case 'gateway.networking.k8s.io':
      return `@kubernetes-models/gateway-api/${group}/${version}/${kind}`;
    case '':
      return `kubernetes-models/${version}/${kind}`;
    default:
      // Built-in groups (apps, policy, autoscaling, networking.k8s.io, ...).
      return /\./.test(group!) && !group!.endsWith('.k8s.io') ? undefined : `kubernetes-models/${group}/${version}/${kind}`;
  }
}

const label = (o: K8sObject): string => `${o.kind}/${o.metadata?.name ?? '?'}`;

/** Runtime schema validation of every object; returns one message per invalid or unknown object. */
export async function validateSchemas(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const o of objects) {
    const mod = modelModule(o.apiVersion, o.kind);
    if (!mod) {
      problems.push(`${label(o)}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = ((await import(mod)) as Record<string, typeof Model>)[o.kind]!;
      if (typeof Model !== 'function') throw new Error(`no export ${o.kind}`);
    } catch (err) {
      problems.push(`${label(o)}: no schema for ${o.apiVersion} ${o.kind} (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      problems.push(`${label(o)}: ${(err as Error).message.split('\n').slice(0, 4).join('; ')}`);
    }
  }
  return problems;
}

/**
 * Unknown fields: type-checks `const o: I<Kind> = <object>` for every object in one in-memory TypeScript program
 * (the file is virtual, resolved from the repository root so the packages are found). Excess-property checks on
 * object literals reject any field the interface does not declare, at any depth. One message per error.
 */
export function checkUnknownFields(objects: K8sObject[]): string[] {
  const virtual = join(repo, '__k8s_objects__.ts');
  const lines: string[] = [];
  const owners: string[] = [];
  objects.forEach((o, i) => {
    const mod = modelModule(o.apiVersion, o.kind);
    if (!mod) return;
    lines.push(`import type { I${o.kind} as T${i} } from ${JSON.stringify(mod)};`);
  });
  const header = lines.length;
  objects.forEach((o, i) => {
    if (!modelModule(o.apiVersion, o.kind)) return;
    const body = JSON.stringify(o, null, 1).split('\n');
    for (let k = 0; k < body.length; k++) owners.push(label(o));
    lines.push(`export const o${i}: T${i} = ${body.join('\n')};`);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    resolve(name) === virtual ? ts.createSourceFile(name, source, lang, true) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === virtual || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (resolve(name) === virtual ? source : readFile(name));
  const program = ts.createProgram([virtual], options, host);
  const file = program.getSourceFile(virtual)!;
  return ts.getPreEmitDiagnostics(program, file).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n');
    const line = d.start === undefined ? -1 : file.getLineAndCharacterOfPosition(d.start).line;
    const owner = line >= header ? owners[line - header] : 'imports';
    return `${owner ?? '?'}: ${text.at(-1)}`;
  });
}
