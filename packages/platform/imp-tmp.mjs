import { readFileSync } from 'node:fs';
const rss = () => { globalThis.gc?.(); const m = process.memoryUsage(); const s = readFileSync('/proc/self/status','utf8'); return `rss=${(+/VmRSS:\s+(\d+)/.exec(s)[1]/1024).toFixed(1)} heap=${(m.heapUsed/1048576).toFixed(1)} ext=${(m.external/1048576).toFixed(1)}`; };
console.log('base', rss());
for (const spec of process.argv.slice(2)) {
  const t = performance.now();
  await import(spec);
  await new Promise(r => setTimeout(r, 50));
  console.log(spec, rss(), `${(performance.now()-t).toFixed(0)}ms`);
}
