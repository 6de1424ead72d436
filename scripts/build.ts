// Optional production build: `node scripts/build.ts` emits plain JS for the workspace into dist/, so a service
// runs as `node dist/services/<name>/src/main.js` without Node's TypeScript stripper. Tests, `pnpm start` and the
// dev loop keep running the .ts sources; this is for images and the memory benchmark.
//
// Why: every process that loads a .ts file instantiates the type stripper (a WebAssembly module whose linear memory
// only grows) and strips each file at load; for a service that is ~15-25 MB of idle RSS, and again in every worker
// thread started from a .ts file. The emitted JS is the same code with the types blanked out (Node's own
// `stripTypeScriptTypes`, whitespace mode), so line and column numbers in stack traces still match the sources.
//
// dist/ mirrors the repository (dist/packages/platform/src/x.js ...), so `new URL('../../../artifacts', import.meta.url)`
// still finds the repository's artifacts/, proto/ and config/ through symlinks, and each package's node_modules is
// linked next to its output. Relative '.ts' specifiers become '.js'; `@moma/<pkg>[/sub]` imports are rewritten to
// the relative path of that package's built entry (the workspace links would lead back to the .ts sources).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// stripTypeScriptTypes warns that it is experimental on first use; that is known here and only noise in build logs.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'ExperimentalWarning') console.warn(`${w.name}: ${w.message}`);
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'dist' }, quiet: { type: 'boolean', default: false } } });
const OUT = join(ROOT, args.out);
/** Top-level folders read at run time through import.meta.url-relative paths. */
const LINKED_DIRS = ['artifacts', 'proto', 'config'];

interface WorkspacePackage {
  name: string;
  dir: string; // relative to ROOT, posix
  exports: Record<string, string>;
}

function workspacePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'services']) {
    for (const entry of readdirSync(join(ROOT, group))) {
      const manifest = join(ROOT, group, entry, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; exports?: string | Record<string, string> };
      const exports = typeof pkg.exports === 'string' ? { '.': pkg.exports } : (pkg.exports ?? {});
      out.push({ name: pkg.name, dir: `${group}/${entry}`, exports });
    }
  }
  return out;
}

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* tsFiles(path);
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts') && !entry.endsWith('.test.ts')) yield path;
  }
}

const toJs = (p: string) => p.replace(/\.ts$/, '.js');

/** `@moma/platform/telemetry-register` → the built file of that export, relative to `fromFile` (both repo-relative). */
function resolveWorkspaceImport(spec: string, fromFile: string, pkgs: Map<string, WorkspacePackage>): string | undefined {
  const m = /^(@moma\/[^/]+)(\/.*)?$/.exec(spec);
  if (!m) return undefined;
  const pkg = pkgs.get(m[1]!);
  if (!pkg) return undefined;
  const target = pkg.exports[m[2] ? `.${m[2]}` : '.'];
  if (!target) throw new Error(`${fromFile}: ${spec} is not exported by ${pkg.name}`);
  const rel = posix.relative(posix.dirname(fromFile), posix.join(pkg.dir, toJs(target)));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Rewrites module specifiers in stripped code: relative .ts → .js, workspace packages → relative dist paths. */
function rewrite(code: string, file: string, pkgs: Map<string, WorkspacePackage>): string {
  // Static `from '...'`, side-effect `import '...'`, dynamic `import('...')`, and `new URL('./x.ts', import.meta.url)`
  // (worker entry points) all carry the specifier as a string literal right after one of these tokens.
  return code.replace(/(\bfrom\s*|\bimport\s*\(?\s*|\bnew URL\(\s*)(['"])([^'"\n]+)\2/g, (whole, lead: string, q: string, spec: string) => {
    if ((spec.startsWith('./') || spec.startsWith('../')) && spec.endsWith('.ts')) return `${lead}${q}${toJs(spec)}${q}`;
    const ws = resolveWorkspaceImport(spec, file, pkgs);
    return ws ? `${lead}${q}${ws}${q}` : whole;
  });
}

function link(target: string, path: string): void {
  if (!existsSync(target)) return;
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(relative(dirname(path), target), path);
}

const started = performance.now();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
// Plain .js under dist/ is ESM, like the sources.
writeFileSync(join(OUT, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
link(join(ROOT, 'node_modules'), join(OUT, 'node_modules'));
for (const dir of LINKED_DIRS) link(join(ROOT, dir), join(OUT, dir));

const pkgs = new Map(workspacePackages().map((p) => [p.name, p]));
let files = 0;
let bytes = 0;
for (const pkg of pkgs.values()) {
  link(join(ROOT, pkg.dir, 'node_modules'), join(OUT, pkg.dir, 'node_modules'));
  const manifest = join(ROOT, pkg.dir, 'package.json');
  cpSync(manifest, join(OUT, pkg.dir, 'package.json'));
  for (const abs of tsFiles(join(ROOT, pkg.dir, 'src'))) {
    const rel = relative(ROOT, abs).split('\\').join('/');
    let js: string;
    try {
      js = stripTypeScriptTypes(readFileSync(abs, 'utf8'), { mode: 'strip' });
    } catch (err) {
      throw new Error(`${rel}: ${(err as Error).message}`, { cause: err });
    }
    const out = join(OUT, toJs(rel));
    mkdirSync(dirname(out), { recursive: true });
    const text = rewrite(js, rel, pkgs);
    writeFileSync(out, text);
    files++;
    bytes += text.length;
  }
}
if (!args.quiet) {
  console.log(`built ${files} files (${(bytes / 1024).toFixed(0)} KiB) into ${relative(ROOT, OUT)}/ in ${(performance.now() - started).toFixed(0)} ms`);
  console.log(`run a service: node ${relative(ROOT, OUT)}/services/<name>/src/main.js`);
}
