// Test helpers (imported by *.test.ts only): namespaced subjects so test files sharing one NATS never answer each
// other's requests, and small agent cards.
import type { Bus } from '@moma/platform';
import type { ClassifyResponse } from '@moma/proto';
export { prefixedBus } from '@moma/testkit';

export function cardJson(name: string, description: string, examples: string[], url = 'http://127.0.0.1:9/a2a'): string {
  return JSON.stringify({
    name,
    description,
    url,
    version: '1.0.0',
    capabilities: { streaming: false },
    skills: [{ id: 'main', name, description, tags: [], examples }],
  });
}

export const WEATHER_CARD = cardJson('Weather Bot', 'Weather forecasts and current conditions for any city', [
  'will it rain in Paris tomorrow',
  'what is the temperature in Oslo',
  'weather forecast for the weekend',
]);
export const BANK_CARD = cardJson('Bank Helper', 'Bank account balances, transfers and card payments', [
  'what is my account balance',
  'transfer 50 euros to my savings',
  'my card was declined',
]);

/** What the intent stage would send: the given candidates, in scope when the best clears 0.35. */
export function intent(...candidates: Array<[agentId: string, score: number]>): ClassifyResponse {
  const threshold = 0.35;
  return {
    categories: [],
    candidates: candidates.map(([agentId, score]) => ({ agentId, score, category: 'test' })),
    inScope: (candidates[0]?.[1] ?? 0) >= threshold,
    threshold,
  };
}
