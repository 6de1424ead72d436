// MoMA's 5-class pairwise labels from the score gap s_a − s_b, ordered from "a much worse" to "a much better":
// 0: a≪b, 1: a<b, 2: a≈b, 3: a>b, 4: a≫b.

export interface GapThresholds {
  /** |gap| below this is a tie. */
  tie: number;
  /** |gap| at or above this is a large win. */
  large: number;
}

export const DEFAULT_GAPS: GapThresholds = { tie: 0.05, large: 0.5 };

export function pairLabel(sa: number, sb: number, g: GapThresholds = DEFAULT_GAPS): number {
  const d = sa - sb;
  const a = Math.abs(d);
  if (a < g.tie) return 2;
  if (a >= g.large) return d > 0 ? 4 : 0;
  return d > 0 ? 3 : 1;
}

/** All unordered model pairs (a < b), the order the pairwise loss uses. */
export function modelPairs(m: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 0; a < m; a++) for (let b = a + 1; b < m; b++) out.push([a, b]);
  return out;
}
