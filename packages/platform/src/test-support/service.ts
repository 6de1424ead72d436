// A one-endpoint service for bus tests: `bus.serve(one('svc-a', subject, EchoCodec, EchoCodec, handler))`.
import type { Codec, ServiceSpec } from '../contracts.ts';

/** Service `name` (also its queue group) with a single endpoint on `subject`, named after the subject. */
export function one<Req, Res>(
  name: string,
  subject: string,
  request: Codec<Req>,
  response: Codec<Res>,
  handler: (req: Req) => Promise<Res>,
): ServiceSpec {
  return { name, endpoints: [{ name: subject, subject, request, response, handler }] };
}
