// Top self-time functions (and modules) of V8 .cpuprofile files, e.g. those `--cpu-prof` writes for each service.
//   node bench/cpu-profile-summary.ts <file-or-dir>... [--top 15]
// bench/vs-portkey.ts --cpu-prof calls summarize() with the time windows of its measured runs, so boot and idle
// stretches do not count. Profile timestamps and process.hrtime share CLOCK_MONOTONIC on Linux (µs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled ms that were not idle, inside the windows. */
  busyMs: number;
  /**
   * Top functions by self time: name, where, ms, share of busy time, and for each the application or package code
   * that led to it (the nearest caller outside node's internals), so a native `writev` says who wrote.
   */
  functions: Array<{ name: string; where: string; ms: number; pct: number; via: Array<{ caller: string; pct: number }> }>;
  /** Self time grouped by module (a package under node_modules, a workspace folder, node:internal, V8). */
  modules: Array<{ module: string; ms: number; pct: number }>;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** "node_modules/@grpc/grpc-js", "services/gateway", "node:internal/http", "(garbage collector)"… */
function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) {
    const parts = url.split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}/${parts[2]?.replace(/\.js$/, '')}` : url;
  }
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return `node_modules/${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const rel = relative(ROOT, path).split('/');
  return rel.length > 1 ? `${rel[0]}/${rel[1]}` : rel[0]!;
}

function whereOf(url: string, line: number): string {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  const shown = nm >= 0 ? path.slice(nm + 'node_modules/'.length) : path.startsWith(ROOT) ? relative(ROOT, path) : path;
  return `${shown}:${line + 1}`;
}

/** Self time per function and module; `windows` ([startUs, endUs] on the profile's clock) limits the samples counted. */
export function summarize(profile: CpuProfile, opts: { top?: number; windows?: Array<[number, number]> } = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const viaCache = new Map<number, string>();
  /** The nearest caller of `id` whose code is not node's own (node:…) nor native: "fn (file:line)". */
  const viaOf = (id: number): string => {
    const cached = viaCache.get(id);
    if (cached !== undefined) return cached;
    let p = parent.get(id);
    let out = '(none)';
    while (p !== undefined) {
      const f = byId.get(p)!.callFrame;
      if (f.url && !f.url.startsWith('node:')) {
        out = `${f.functionName || '(anonymous)'} (${whereOf(f.url, f.lineNumber)})`;
        break;
      }
      p = parent.get(p);
    }
    viaCache.set(id, out);
    return out;
  };
  const fn = new Map<string, { name: string; where: string; us: number; via: Map<string, number> }>();
  const mod = new Map<string, number>();
  let busy = 0;
  let t = profile.startTime;
  const inWindow = (ts: number) => !opts.windows || opts.windows.some(([a, b]) => ts >= a && ts <= b);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the interval up to the next one.
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (!inWindow(t)) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += dt;
    const name = functionName || '(anonymous)';
    const key = `${name}@${url}:${lineNumber}`;
    const entry = fn.get(key) ?? { name, where: whereOf(url, lineNumber), us: 0, via: new Map<string, number>() };
    entry.us += dt;
    if (!url || url.startsWith('node:')) {
      const v = viaOf(node.id);
      entry.via.set(v, (entry.via.get(v) ?? 0) + dt);
    }
    fn.set(key, entry);
    const m = moduleOf(url, name);
    mod.set(m, (mod.get(m) ?? 0) + dt);
  }
  const top = opts.top ?? 15;
  const pct = (us: number) => Math.round((us / Math.max(busy, 1)) * 1000) / 10;
  return {
    busyMs: Math.round(busy / 1000),
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({
        name: f.name,
        where: f.where,
        ms: Math.round(f.us / 1000),
        pct: pct(f.us),
        via: [...f.via.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([caller, us]) => ({ caller, pct: Math.round((us / Math.max(f.us, 1)) * 100) })),
      })),
    modules: [...mod.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, ms: Math.round(us / 1000), pct: pct(us) })),
  };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** The pid in a `--cpu-prof` file name (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile). */
export function profilePid(file: string): number | undefined {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(basename(file));
  return m ? Number(m[1]) : undefined;
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${s.busyMs} ms busy in the sampled windows`];
  lines.push('  self ms    %  function (where)');
  for (const f of s.functions) {
    lines.push(`  ${String(f.ms).padStart(7)} ${f.pct.toFixed(1).padStart(4)}  ${f.name}${f.where ? ` (${f.where})` : ''}`);
    const via = f.via.filter((v) => v.caller !== '(none)' && v.pct >= 5);
    if (via.length) lines.push(`${''.padStart(15)}via ${via.map((v) => `${v.caller} ${v.pct}%`).join('; ')}`);
  }
  lines.push('  by module:');
  for (const m of s.modules.slice(0, 8)) lines.push(`  ${String(m.ms).padStart(7)} ${m.pct.toFixed(1).padStart(4)}  ${m.module}`);
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
  const files = positionals.flatMap((p) =>
    statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p],
  );
  for (const file of files) console.log(`\n${formatSummary(file, summarize(readProfile(file), { top: Number(values.top) }))}`);
}
