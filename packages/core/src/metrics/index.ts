// Evaluation metrics for cost-quality routing (RouterBench AIQ, RouteLLM APGR/CPT). Pure functions.
export { nonDecreasingHull, hullCostFor, type CostQuality } from './hull.ts';
export { aiq } from './aiq.ts';
export { twoModelCurve, apgr, cpt, type TwoModelCurve } from './two-model.ts';
export { pickAtWtp, outcome, sweepWtp, wtpGrid, singleModelPoints, oraclePicks, type RoutingTable } from './sweep.ts';
