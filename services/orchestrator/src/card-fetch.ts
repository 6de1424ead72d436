// Fetches an A2A Agent Card from an agent's base URL (the A2A well-known path), with a deadline.
import { Code, MomaError } from '@moma/platform';

export const WELL_KNOWN_CARD_PATH = '/.well-known/agent-card.json';

/** `https://a.example/x` → `https://a.example/x/.well-known/agent-card.json`; a URL already naming a card is kept. */
export function cardUrlFor(base: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw MomaError.invalidArgument(`card_url "${base}" is not an absolute URL`, { field: 'card_url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw MomaError.invalidArgument(`card_url must be http(s) (got ${url.protocol})`, { field: 'card_url' });
  }
  if (url.pathname.endsWith('.json')) return url.toString();
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${WELL_KNOWN_CARD_PATH}`;
  return url.toString();
}

export type FetchLike = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>;

/** Returns the card as parsed JSON plus its raw text; errors say which URL failed and how. */
export async function fetchAgentCard(
  base: string,
  timeoutMs: number,
  fetchImpl: FetchLike = fetch,
): Promise<{ url: string; json: unknown; text: string }> {
  const url = cardUrlFor(base);
  let res: Response;
  try {
    res = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw MomaError.deadlineExceeded(`agent card ${url} did not answer within ${timeoutMs} ms`, err);
    }
    throw MomaError.unavailable(`cannot fetch agent card ${url}: ${(err as Error).message}`, err);
  }
  const text = await res.text();
  if (!res.ok) {
    // 404: nothing at that address; anything else: the agent exists but cannot give its card right now.
    throw new MomaError(res.status === 404 ? Code.NOT_FOUND : Code.FAILED_PRECONDITION, `agent card ${url} answered HTTP ${res.status}`);
  }
  try {
    return { url, json: JSON.parse(text), text };
  } catch {
    throw MomaError.invalidArgument(`agent card ${url} is not JSON`, { field: 'card_url' });
  }
}
