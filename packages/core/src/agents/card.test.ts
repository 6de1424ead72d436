import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.ts';
import { agentIdFromName, checkCardText, parseAgentCard } from './card.ts';

const valid = {
  name: 'Weather Bot',
  description: 'Forecasts',
  url: 'http://localhost:9999/a2a',
  version: '1.2.0',
  protocolVersion: '0.3.0',
  capabilities: { streaming: true },
  defaultInputModes: ['text/plain'],
  skills: [{ id: 'forecast', name: 'Forecast', description: 'Weather forecast', tags: ['weather'], examples: ['will it rain tomorrow'], inputModes: ['text'] }],
};

function errorOf(json: unknown): InvalidInputError {
  try {
    parseAgentCard(json);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('expected InvalidInputError');
}

describe('agents card', () => {
  it('agents card - parses a full A2A card and keeps only routing fields', () => {
    const c = parseAgentCard(valid);
    expect(c).toEqual({
      name: 'Weather Bot',
      description: 'Forecasts',
      url: 'http://localhost:9999/a2a',
      version: '1.2.0',
      skills: [{ id: 'forecast', name: 'Forecast', description: 'Weather forecast', tags: ['weather'], examples: ['will it rain tomorrow'] }],
    });
  });

  it('agents card - defaults optional skill fields', () => {
    const c = parseAgentCard({ name: 'x', url: 'https://a.example/', skills: [{ id: 's', name: 'S' }] });
    expect(c.skills[0]).toEqual({ id: 's', name: 'S', description: '', tags: [], examples: [] });
    expect(c.version).toBe('0.0.0');
  });

  it.each([
    ['not an object', 'nope', '(card)'],
    ['array', [], '(card)'],
    ['missing name', { ...valid, name: undefined }, 'name'],
    ['blank name', { ...valid, name: '  ' }, 'name'],
    ['bad url', { ...valid, url: 'localhost' }, 'url'],
    ['javascript: url', { ...valid, url: 'javascript:alert(1)' }, 'url'],
    ['file: url', { ...valid, url: 'file:///etc/passwd' }, 'url'],
    ['name too long', { ...valid, name: 'n'.repeat(201) }, 'name'],
    ['too many skills', { ...valid, skills: Array.from({ length: 101 }, (_, i) => ({ id: `s${i}`, name: 'S' })) }, 'skills'],
    ['skills not an array', { ...valid, skills: {} }, 'skills'],
    ['skill without id', { ...valid, skills: [{ name: 'a' }] }, 'skills[0].id'],
    ['example not a string', { ...valid, skills: [{ id: 'a', name: 'a', examples: [3] }] }, 'skills[0].examples[0]'],
    ['duplicate skill id', { ...valid, skills: [{ id: 'a', name: 'a' }, { id: 'a', name: 'b' }] }, 'skills[1].id'],
  ])('agents card - rejects %s naming the field', (_name, json, field) => {
    const e = errorOf(json);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it('agents card - ids are slugs of the name', () => {
    expect(agentIdFromName('Weather Bot 2')).toBe('weather-bot-2');
    expect(agentIdFromName('  Café  Finder!! ')).toBe('cafe-finder');
    expect(() => agentIdFromName('!!!')).toThrow(InvalidInputError);
  });

  it('agents card - checkCardText refuses a card too large or nested too deep before it is parsed', () => {
    expect(() => checkCardText(JSON.stringify(valid))).not.toThrow();
    expect(() => checkCardText('['.repeat(5000) + ']'.repeat(5000))).toThrow(/nested deeper than 32 levels/);
    expect(() => checkCardText(JSON.stringify({ ...valid, description: 'x'.repeat(300_000) }))).toThrow(/more than the 262144 allowed/);
    // Brackets inside strings (escaped quotes too) are text, not nesting.
    expect(() => checkCardText(JSON.stringify({ ...valid, description: '[{\"'.repeat(100) }))).not.toThrow();
  });
});
