// The loaded router's cost-quality front on live traffic: per model the mean predicted quality and cost over the
// requests scored, which models are on the Pareto front of those means, and where each mode's choices landed. What
// the dashboard draws; pure (the scoring stage feeds it every choice).
import { paretoFront } from './choose.ts';
import type { LlmChoice, RoutingModeName } from './types.ts';

export interface FrontPoint {
  id: string;
  quality: number;
  costUsd: number;
  onFront: boolean;
  requests: number;
}

export interface FrontSummary {
  models: FrontPoint[];
  modes: FrontPoint[];
  /** Highest mean predicted quality: the "best single model" savings are measured against ('' before traffic). */
  bestModel: string;
}

interface Sum {
  quality: number;
  cost: number;
  n: number;
}

const add = (m: Map<string, Sum>, id: string, q: number, c: number) => {
  let s = m.get(id);
  if (!s) m.set(id, (s = { quality: 0, cost: 0, n: 0 }));
  s.quality += q;
  s.cost += c;
  s.n++;
};

export class FrontTally {
  readonly #models = new Map<string, Sum>();
  readonly #modes = new Map<RoutingModeName, Sum>();

  /** One scored request: every ranked model's prediction, and the chosen one under its mode. */
  add(choice: LlmChoice): void {
    for (const r of choice.ranked) add(this.#models, r.model, r.predictedQuality, r.predictedCostUsd);
    const chosen = choice.ranked[0];
    if (chosen) add(this.#modes as Map<string, Sum>, choice.mode, chosen.predictedQuality, chosen.predictedCostUsd);
  }

  summary(): FrontSummary {
    const models = [...this.#models].map(([id, s]) => ({ id, quality: s.quality / s.n, costUsd: s.cost / s.n, onFront: false, requests: s.n }));
    const front = paretoFront(models.map((m) => ({ model: m.id, quality: m.quality, costUsd: m.costUsd })));
    models.forEach((m, i) => (m.onFront = front.has(i)));
    models.sort((a, b) => a.costUsd - b.costUsd);
    const modes = [...this.#modes].map(([id, s]) => ({ id, quality: s.quality / s.n, costUsd: s.cost / s.n, onFront: false, requests: s.n }));
    const best = models.reduce<FrontPoint | undefined>((b, m) => (!b || m.quality > b.quality ? m : b), undefined);
    return { models, modes, bestModel: best?.id ?? '' };
  }
}
