// The decision's x-moma-* headers: every value is one Node sends (printable ASCII), and decodes back to the text.
import { describe, expect, it } from 'vitest';
import { agentTarget, llmTarget } from '@moma/core/rules';
import { Decision } from '@moma/proto';
import { decisionHeaders, headerText } from './present.ts';

describe('gateway headers', () => {
  it('gateway headers - a hand-off, a model id and a router version outside ASCII are percent-encoded, ASCII is left as it is', () => {
    const h = decisionHeaders(
      Decision.fromPartial({ target: llmTarget('modèle-7b'), fsmState: 'handed_off(weather-agent→currency-agent)', routerVersion: 'météo-20261208T0101', reason: 'kept ✓' }),
    );
    for (const v of Object.values(h)) expect(v).toMatch(/^[\x20-\x7e]*$/);
    expect(h['x-moma-fsm-state']).toBe('handed_off(weather-agent%E2%86%92currency-agent)');
    expect(decodeURIComponent(h['x-moma-fsm-state']!)).toBe('handed_off(weather-agent→currency-agent)');
    expect(decodeURIComponent(h['x-moma-target']!)).toBe('llm:modèle-7b');
    expect(decodeURIComponent(h['x-moma-router-version']!)).toBe('météo-20261208T0101');
    expect(decodeURIComponent(h['x-moma-reason']!)).toBe('kept ✓');
    const plain = decisionHeaders(Decision.fromPartial({ target: agentTarget('weather-agent'), fsmState: 'engaged(weather-agent)', routerVersion: 'default-20261202T200952' }));
    expect(plain['x-moma-target']).toBe('agent:weather-agent');
    expect(plain['x-moma-fsm-state']).toBe('engaged(weather-agent)');
    expect(plain['x-moma-router-version']).toBe('default-20261202T200952');
  });

  it('gateway headers - headerText escapes % and control characters so decoding is exact', () => {
    expect(headerText('100% sure')).toBe('100%25 sure');
    expect(headerText('a\r\nb')).toBe('a%0D%0Ab');
    for (const s of ['100% sure', 'a\r\nb', '→', 'plain text (ok)']) expect(decodeURIComponent(headerText(s))).toBe(s);
  });
});
