import type { CostQuality } from '@moma/core';
import type { EvalGroupResult } from './evaluate.ts';

interface Series {
  name: string;
  color: string;
  points: CostQuality[];
  dash?: string;
  marker?: boolean;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A cost-quality plot (log cost axis) of the router's hull against the baselines, as a standalone SVG. */
export function costQualitySvg(g: EvalGroupResult, title: string): string {
  const b = g.baselines;
  const series: Series[] = [
    { name: 'MoMA router', color: '#d62728', points: g.router.points },
    ...(b.knn ? [{ name: 'kNN (k=40)', color: '#1f77b4', points: b.knn.points, dash: '6 3' }] : []),
    ...(b.mlp ? [{ name: 'MLP', color: '#2ca02c', points: b.mlp.points, dash: '2 3' }] : []),
    { name: 'zero router', color: '#7f7f7f', points: b.zero.points, dash: '8 4' },
    { name: 'single models', color: '#444', points: b.singles, marker: true },
    { name: 'oracle', color: '#9467bd', points: [b.oracle], marker: true },
  ];
  const all = series.flatMap((s) => s.points).filter((p) => p.cost > 0);
  const W = 640, H = 420, L = 60, R = 170, T = 40, B = 50;
  const lx = all.map((p) => Math.log10(p.cost));
  const [x0, x1] = [Math.min(...lx) - 0.1, Math.max(...lx) + 0.1];
  const qs = all.map((p) => p.quality);
  const [y0, y1] = [Math.max(0, Math.min(...qs) - 0.05), Math.min(1, Math.max(...qs) + 0.05)];
  const X = (c: number): number => L + ((Math.log10(Math.max(c, 1e-12)) - x0) / (x1 - x0)) * (W - L - R);
  const Y = (q: number): number => H - B - ((q - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="14">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">mean cost per query (USD, log scale)</text>`,
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">quality</text>`,
  ];
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    out.push(`<line x1="${X(10 ** e)}" y1="${H - B}" x2="${X(10 ** e)}" y2="${H - B + 4}" stroke="black"/><text x="${X(10 ** e)}" y="${H - B + 16}" text-anchor="middle">1e${e}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const q = y0 + ((y1 - y0) * i) / 4;
    out.push(`<line x1="${L - 4}" y1="${Y(q)}" x2="${L}" y2="${Y(q)}" stroke="black"/><text x="${L - 6}" y="${Y(q) + 4}" text-anchor="end">${q.toFixed(2)}</text>`);
  }
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.cost > 0);
    if (s.marker) {
      for (const p of pts) out.push(`<circle cx="${X(p.cost).toFixed(1)}" cy="${Y(p.quality).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    } else if (pts.length > 0) {
      const d = pts.map((p) => `${X(p.cost).toFixed(1)},${Y(p.quality).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    }
    const ly = T + 14 + i * 18;
    out.push(`<rect x="${W - R + 12}" y="${ly - 8}" width="14" height="4" fill="${s.color}"/><text x="${W - R + 32}" y="${ly - 2}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
