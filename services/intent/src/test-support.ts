// Test helpers (imported by *.test.ts only): namespaced subjects so test files sharing one NATS never answer each
// other's requests, and a test registry that speaks the orchestrator's side of the registry contract.
import { Agent } from '@moma/proto';
export { prefixedBus, TestRegistry } from '@moma/testkit';

export function testAgent(id: string, description: string, examples: string[], category = ''): Agent {
  return Agent.fromPartial({
    id,
    card: { name: id, description, url: `http://127.0.0.1:9/${id}`, version: '1', skills: [{ id: 'main', name: id, description, tags: [], examples }] },
    healthy: true,
    category,
  });
}

export const WEATHER = testAgent('weather-bot', 'Weather forecasts, temperature and rain for any city', [
  'will it rain in Paris tomorrow',
  'what is the temperature in Oslo right now',
  'weather forecast for the weekend in Rome',
  'is it going to snow tonight',
]);
export const BANK = testAgent('bank-helper', 'Bank accounts: balances, money transfers and card payments', [
  'what is my checking account balance',
  'transfer 50 euros to my savings account',
  'my debit card was declined',
  'show my last transactions',
]);
