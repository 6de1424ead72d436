// @moma/core/testing: test helpers for what @moma/core defines, never loaded by production code. Core's own tests use
// them, and so do the gateway's door tests, which see the wire translations' shapes over HTTP.
import { expect } from 'vitest';
import { InvalidInputError } from './errors.ts';

/** Runs `fn`, expecting an InvalidInputError naming `field` (and, when given, a message containing each part). */
export function expectInvalid(fn: () => unknown, field: string | undefined, ...messageParts: string[]): InvalidInputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected an InvalidInputError').toBeInstanceOf(InvalidInputError);
  const err = caught as InvalidInputError;
  expect(err.name).toBe('InvalidInputError');
  expect(err.field).toBe(field);
  for (const part of messageParts) expect(err.message).toContain(part);
  return err;
}

/** The event types of a Responses stream whose answer is one text message sent in `deltas` text deltas. */
export function responsesTextEventTypes(deltas: number): string[] {
  return [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    ...Array.from({ length: deltas }, () => 'response.output_text.delta'),
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ];
}
