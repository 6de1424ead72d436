import { describe, expect, it } from 'vitest';
import { calibrateThreshold, thresholdMetrics, type CalibrationSample } from './calibrate.ts';

const ins = (score: number, correct = true): CalibrationSample => ({ score, inScope: true, correct });
const oos = (score: number): CalibrationSample => ({ score, inScope: false, correct: false });

describe('agents calibrate', () => {
  it('agents calibrate - separable scores give a threshold between the classes', () => {
    const r = calibrateThreshold([ins(0.9), ins(0.8), ins(0.7), oos(0.3), oos(0.2)]);
    expect(r.threshold).toBeGreaterThan(0.3);
    expect(r.threshold).toBeLessThan(0.7);
    expect(r.inScopeAccuracy).toBe(1);
    expect(r.oosRecall).toBe(1);
  });

  it('agents calibrate - a minimum OOS recall raises the threshold', () => {
    const s = [ins(0.9), ins(0.6), ins(0.5), oos(0.55), oos(0.2)];
    const balanced = calibrateThreshold(s);
    const strict = calibrateThreshold(s, { minOosRecall: 1 });
    expect(strict.oosRecall).toBe(1);
    expect(strict.threshold).toBeGreaterThan(0.55);
    expect(strict.inScopeAccuracy).toBeLessThanOrEqual(balanced.inScopeAccuracy);
  });

  it('agents calibrate - wrong in-scope answers never count as accurate', () => {
    const m = thresholdMetrics([ins(0.9, false), ins(0.8), oos(0.1)], 0.5);
    expect(m.inScopeAccuracy).toBe(0.5);
    expect(m.oosRecall).toBe(1);
  });

  it('agents calibrate - empty input is refused', () => {
    expect(() => calibrateThreshold([])).toThrow(/at least one sample/);
  });
});
