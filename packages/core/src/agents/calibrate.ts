import { InvalidInputError } from '../errors.ts';

/** One validation query: the best candidate's score, whether it is in scope, and whether that candidate is right. */
export interface CalibrationSample {
  score: number;
  inScope: boolean;
  correct: boolean;
}

export interface CalibrationResult {
  threshold: number;
  /** In-scope queries accepted with the right agent / all in-scope queries. */
  inScopeAccuracy: number;
  /** Out-of-scope queries rejected / all out-of-scope queries. */
  oosRecall: number;
}

export interface CalibrationOptions {
  /**
   * 'balanced' maximises in-scope accuracy + OOS recall (the usual CLINC protocol); a number picks the highest
   * in-scope accuracy whose OOS recall reaches it (falling back to balanced if none does).
   */
  minOosRecall?: number;
}

/** Metrics of a threshold over samples: accept when score ≥ threshold. */
export function thresholdMetrics(samples: readonly CalibrationSample[], threshold: number): CalibrationResult {
  let ins = 0;
  let insOk = 0;
  let oos = 0;
  let oosRej = 0;
  for (const s of samples) {
    if (s.inScope) {
      ins++;
      if (s.correct && s.score >= threshold) insOk++;
    } else {
      oos++;
      if (s.score < threshold) oosRej++;
    }
  }
  return { threshold, inScopeAccuracy: ins ? insOk / ins : 0, oosRecall: oos ? oosRej / oos : 1 };
}

/**
 * Picks the agent-or-LLM threshold on a validation split by scanning every distinct score (midpoints between
 * neighbours, so the threshold generalises rather than sitting on a sample).
 */
export function calibrateThreshold(samples: readonly CalibrationSample[], opts: CalibrationOptions = {}): CalibrationResult {
  if (samples.length === 0) throw new InvalidInputError('calibration needs at least one sample', 'samples');
  const scores = [...new Set(samples.map((s) => s.score))].sort((a, b) => a - b);
  const cuts = [scores[0]! - 1e-6, ...scores.slice(1).map((s, i) => (s + scores[i]!) / 2), scores[scores.length - 1]! + 1e-6];
  let bestBal: CalibrationResult | null = null;
  let bestReq: CalibrationResult | null = null;
  for (const t of cuts) {
    const m = thresholdMetrics(samples, t);
    if (!bestBal || m.inScopeAccuracy + m.oosRecall > bestBal.inScopeAccuracy + bestBal.oosRecall) bestBal = m;
    if (opts.minOosRecall !== undefined && m.oosRecall >= opts.minOosRecall && (!bestReq || m.inScopeAccuracy > bestReq.inScopeAccuracy)) bestReq = m;
  }
  return (bestReq ?? bestBal)!;
}
