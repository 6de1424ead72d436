import { InvalidInputError } from '../errors.ts';
import type { ChoiceOptions, RankedModel, RoutingModeName } from './types.ts';

export interface Candidate {
  model: string;
  quality: number;
  costUsd: number;
}

export interface Choice {
  ranked: RankedModel[];
  wtp: number;
  reason: string;
}

const MODES: readonly RoutingModeName[] = ['quality', 'balanced', 'cost'];

/** Indices of candidates no other candidate beats on both quality (higher) and cost (lower). */
export function paretoFront(cands: readonly Candidate[]): Set<number> {
  const front = new Set<number>();
  for (let i = 0; i < cands.length; i++) {
    const a = cands[i]!;
    const dominated = cands.some(
      (b, j) => j !== i && b.quality >= a.quality && b.costUsd <= a.costUsd && (b.quality > a.quality || b.costUsd < a.costUsd),
    );
    if (!dominated) front.add(i);
  }
  return front;
}

/** Rejects options no router could honour, naming the field at fault. */
export function validateOptions(options: ChoiceOptions, known: readonly string[]): void {
  if (!options || !MODES.includes(options.mode)) {
    throw new InvalidInputError(`mode must be one of ${MODES.join(', ')} (got ${String(options?.mode)})`, 'mode');
  }
  const wtp = options.willingnessToPay;
  if (wtp !== undefined && !(wtp > 0)) throw new InvalidInputError(`willingnessToPay must be > 0 USD (got ${wtp})`, 'willingnessToPay');
  const max = options.maxCostUsd;
  if (max !== undefined && !(max >= 0)) throw new InvalidInputError(`maxCostUsd must be ≥ 0 (got ${max})`, 'maxCostUsd');
  const minQ = options.minQuality;
  if (minQ !== undefined && !(minQ >= 0 && minQ <= 1)) {
    throw new InvalidInputError(`minQuality must be within [0, 1] (got ${minQ})`, 'minQuality');
  }
  const knownSet = new Set(known);
  for (const field of ['allowedModels', 'deniedModels'] as const) {
    for (const m of options[field] ?? []) {
      if (!knownSet.has(m)) throw new InvalidInputError(`${field} names unknown model "${m}"; known: ${known.join(', ')}`, field);
    }
  }
}

const fmtUsd = (c: number): string => `$${c < 0.01 ? c.toPrecision(2) : c.toFixed(4)}`;

/**
 * Ranks candidates by utility = quality − cost / wtp (RouterBench/Martian willingness-to-pay), after applying the
 * limits. The first entry is the choice; the rest are fallbacks in order. Throws if the limits leave nothing.
 */
export function choose(cands: readonly Candidate[], options: ChoiceOptions, wtp: number): Choice {
  const allowed = options.allowedModels && options.allowedModels.length > 0 ? new Set(options.allowedModels) : undefined;
  const denied = new Set(options.deniedModels ?? []);
  let pool = cands.filter((c) => (!allowed || allowed.has(c.model)) && !denied.has(c.model));
  if (pool.length === 0) throw new InvalidInputError('allowedModels/deniedModels leave no model to route to', 'allowedModels');
  const max = options.maxCostUsd;
  if (max !== undefined) {
    const cheap = pool.filter((c) => c.costUsd <= max);
    if (cheap.length === 0) {
      const min = Math.min(...pool.map((c) => c.costUsd));
      throw new InvalidInputError(`no model fits maxCostUsd ${fmtUsd(max)}: the cheapest predicted cost is ${fmtUsd(min)}`, 'maxCostUsd');
    }
    pool = cheap;
  }
  const minQ = options.minQuality;
  if (minQ !== undefined) {
    const good = pool.filter((c) => c.quality >= minQ);
    if (good.length === 0) {
      const best = Math.max(...pool.map((c) => c.quality));
      throw new InvalidInputError(`no model reaches minQuality ${minQ}: the best predicted quality is ${best.toFixed(3)}`, 'minQuality');
    }
    pool = good;
  }
  const front = paretoFront(pool);
  const ranked: RankedModel[] = pool
    .map((c, i) => ({
      model: c.model,
      predictedQuality: c.quality,
      predictedCostUsd: c.costUsd,
      utility: Number.isFinite(wtp) ? c.quality - c.costUsd / wtp : c.quality,
      onFront: front.has(i),
    }))
    .sort((a, b) => b.utility - a.utility || b.predictedQuality - a.predictedQuality || a.predictedCostUsd - b.predictedCostUsd);
  const top = ranked[0]!;
  const limits = [
    allowed ? `${allowed.size} allowed` : '',
    denied.size > 0 ? `${denied.size} denied` : '',
    max !== undefined ? `max cost ${fmtUsd(max)}` : '',
    minQ !== undefined ? `min quality ${minQ}` : '',
  ].filter(Boolean);
  const next = ranked[1];
  const reason =
    `${options.mode} mode (willingness to pay ${Number.isFinite(wtp) ? fmtUsd(wtp) : 'unbounded'} per quality point): ` +
    `${top.model} has the best utility, predicted quality ${top.predictedQuality.toFixed(3)} at ${fmtUsd(top.predictedCostUsd)}; ` +
    `${front.size} of ${pool.length} candidates on the cost-quality front` +
    (limits.length > 0 ? `; limits: ${limits.join(', ')}` : '') +
    (next ? `; next: ${next.model} (${next.predictedQuality.toFixed(3)}, ${fmtUsd(next.predictedCostUsd)})` : '');
  return { ranked, wtp, reason };
}
