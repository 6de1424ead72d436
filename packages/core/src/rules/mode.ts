// Routing modes: the one table between the wire enum (RoutingMode) and the names people and the core use.
import { RoutingMode } from '@moma/proto/common';
import { InvalidInputError } from '../errors.ts';
import type { RoutingModeName } from '../llm/types.ts';

const BY_NAME: Readonly<Record<RoutingModeName, RoutingMode>> = {
  quality: RoutingMode.ROUTING_MODE_QUALITY,
  balanced: RoutingMode.ROUTING_MODE_BALANCED,
  cost: RoutingMode.ROUTING_MODE_COST,
};

/** The name of a wire mode; UNSPECIFIED is the server default, balanced. Throws for a value outside the enum. */
export function modeName(mode: RoutingMode): RoutingModeName {
  if (mode === RoutingMode.ROUTING_MODE_UNSPECIFIED) return 'balanced';
  for (const [name, value] of Object.entries(BY_NAME)) if (value === mode) return name as RoutingModeName;
  throw new InvalidInputError(`mode: unknown mode ${mode}; use quality, balanced or cost`, 'mode');
}

/** The wire mode for a name; throws InvalidInputError naming the field for anything else. */
export function routingMode(name: string): RoutingMode {
  const mode = Object.hasOwn(BY_NAME, name) ? BY_NAME[name as RoutingModeName] : undefined;
  if (mode === undefined) throw new InvalidInputError(`mode: unknown mode ${JSON.stringify(name)}; use quality, balanced or cost`, 'mode');
  return mode;
}
