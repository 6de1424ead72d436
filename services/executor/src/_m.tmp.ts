const mods = process.argv.slice(2);
for (const m of mods) await import(m);
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 500));
console.log(mods.join(',') || 'baseline', Math.round(process.memoryUsage().rss / 1e6), 'MB rss', Math.round(process.memoryUsage().heapUsed / 1e6), 'MB heap');
