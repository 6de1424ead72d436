// Provider text may reach a client or a log (a refusal's message, an error's detail): nothing key-like may ride along.

/** Removes the provider's key and anything shaped like an API key or bearer token from a provider's text. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out
    .replace(/\b(sk|pk|rk|key)-[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [redacted]')
    .replace(/\s+/g, ' ')
    .slice(0, 500);
}
