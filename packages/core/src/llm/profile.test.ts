import { describe, expect, it } from 'vitest';
import { combineSwapped, diversitySample, scoresFromVerdicts } from './profile.ts';

describe('profile - pure parts', () => {
  it('combineSwapped - a consistent judge keeps its verdict; a judge that prefers the first answer cancels to a tie', () => {
    expect(combineSwapped('a>>b', 'a<<b')).toBe('a>>b');
    expect(combineSwapped('a>b', 'a<b')).toBe('a>b');
    expect(combineSwapped('a>b', 'a>b')).toBe('a=b'); // "first is better" both times: no information
    expect(combineSwapped('a>>b', 'a<b')).toBe('a>>b'); // mean 1.5
    expect(combineSwapped('a=b', 'a<<b')).toBe('a>b'); // mean 1
    expect(combineSwapped('a<b', 'a>>b')).toBe('a<<b'); // mean -1.5
  });

  it('scoresFromVerdicts - each model scored by its record, in [0, 1]', () => {
    const s = scoresFromVerdicts(['x', 'y', 'z', 'w'], [
      { a: 'x', b: 'y', label: 'a>>b' },
      { a: 'x', b: 'z', label: 'a=b' },
      { a: 'y', b: 'z', label: 'a<b' },
    ]);
    expect(s).toEqual({ x: (1 + 0.5) / 2, y: (0 + 0.25) / 2, z: (0.5 + 0.75) / 2, w: 0.5 });
  });

  it('diversitySample - deterministic per seed, no repeats, and it covers every cluster rather than the biggest one', () => {
    // 90 points near (0,0), 5 near (10,0), 5 near (0,10): 3 picks should land one in each cluster.
    const pts: number[] = [];
    for (let i = 0; i < 90; i++) pts.push(Math.sin(i) * 0.1, Math.cos(i) * 0.1);
    for (let i = 0; i < 5; i++) pts.push(10 + i * 0.01, 0);
    for (let i = 0; i < 5; i++) pts.push(0, 10 + i * 0.01);
    const X = Float32Array.from(pts);
    const picks = diversitySample(X, 100, 2, 3, 11);
    expect(diversitySample(X, 100, 2, 3, 11)).toEqual(picks);
    expect(new Set(picks).size).toBe(3);
    const cluster = (i: number) => (i < 90 ? 'origin' : i < 95 ? 'x' : 'y');
    // The first pick is random; the next ones go where the points are farthest from it (probability ∝ d²).
    expect(new Set(picks.map(cluster)).size).toBeGreaterThanOrEqual(2);
    expect(diversitySample(X, 100, 2, 200, 1)).toHaveLength(100);
    const dupes = new Float32Array(10 * 2); // all identical: takes them in order
    expect(new Set(diversitySample(dupes, 10, 2, 4, 3)).size).toBe(4);
  });
});
