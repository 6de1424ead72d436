/**
 * Thrown by routing code for input it cannot route (empty query, unknown model in limits, negative cost bound).
 * The core does no I/O and knows no transport: the platform maps this name to INVALID_ARGUMENT / HTTP 400.
 */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}
