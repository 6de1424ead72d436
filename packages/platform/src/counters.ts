// Windowed counters, the arithmetic both stores share: how much a window counts now (a sliding window weights the
// previous window by the share of it still inside the last window length), whether a limit has room for one more
// call, and how long until it does. RedisStore runs the same rule in Lua (COUNTERS_TAKE below), so every gateway
// and orchestrator instance decides against the same counts in one atomic step.
import type { CounterLimit, TakeResult, WindowCounter } from './contracts.ts';
import { Code, MomaError } from './errors.ts';

/** Share of the previous window still inside a sliding window ending now, in [0, 1]. */
export function previousWeight(w: WindowCounter, nowMs: number): number {
  if (!w.previousKey) return 0;
  const len = w.endMs - w.startMs;
  return Math.min(1, Math.max(0, (w.endMs - nowMs) / len));
}

/** Whether `limit` has room for its `add` with `used` already counted (add 0: refused once used ≥ limit). */
export function hasRoom(used: number, l: Pick<CounterLimit, 'limit' | 'add'>): boolean {
  return l.add > 0 ? used + l.add <= l.limit : used < l.limit;
}

/**
 * Milliseconds until `limit` has room again, given the current and previous windows' counts: 0 when it has room; for
 * a fixed window, its end; for a sliding one, when the previous window's weighted share has decayed enough (or, when
 * the current window alone is over, when the next window's weighted share of it has).
 */
export function msUntilRoom(l: CounterLimit, current: number, previous: number, nowMs: number): number {
  const weight = previousWeight(l, nowMs);
  if (hasRoom(current + previous * weight, l)) return 0;
  const len = l.endMs - l.startMs;
  const toEnd = Math.max(0, l.endMs - nowMs);
  if (!l.previousKey) return Math.ceil(toEnd);
  const room = l.limit - (l.add > 0 ? l.add : 0);
  // Inside this window: weight(t) ≤ (room - current) / previous.
  if (current <= room && previous > 0) {
    const w = Math.max(0, (room - current) / previous);
    return Math.max(1, Math.ceil(toEnd - len * w));
  }
  // The next window: this one becomes its previous, weighted (1 - t'/len); needs current × weight ≤ room.
  const w = current > 0 ? Math.max(0, room / current) : 1;
  return Math.max(1, Math.ceil(toEnd + len * (1 - w)));
}

/** Milliseconds a window's key must live: through its own window and the next (where it is the previous one). */
export function windowTtlMs(w: WindowCounter, nowMs: number): number {
  return Math.max(1000, Math.ceil(w.endMs + (w.endMs - w.startMs) - nowMs) + 1000);
}

export function checkWindows(ws: readonly WindowCounter[], what: string): void {
  for (const w of ws) {
    if (!w.key || !(w.endMs > w.startMs)) throw new MomaError(Code.INVALID_ARGUMENT, `${what}: a window needs a key and endMs > startMs`);
  }
}

/** The result `take` returns from each limit's counts before this call, and whether all had room. */
export function takeResult(limits: readonly CounterLimit[], counts: ReadonlyArray<{ current: number; previous: number }>, nowMs: number): TakeResult {
  let refused = -1;
  const used = limits.map((l, i) => counts[i]!.current + counts[i]!.previous * previousWeight(l, nowMs));
  limits.forEach((l, i) => {
    if (refused < 0 && !hasRoom(used[i]!, l)) refused = i;
  });
  const ok = refused < 0;
  return {
    ok,
    refused,
    states: limits.map((l, i) => {
      const current = counts[i]!.current + (ok ? l.add : 0);
      return { used: used[i]! + (ok ? l.add : 0), resetMs: msUntilRoom(l, current, counts[i]!.previous, nowMs) };
    }),
  };
}

/**
 * The Lua side of take. KEYS: per limit, its window's key and its previous window's key (or the window key again
 * when it does not slide). ARGV: now, then per limit: limit, add, startMs, endMs, slides (1/0), ttlMs. Returns, per
 * limit, {current, previous} before the call, then 1 when admitted (every add applied) or 0.
 */
export const COUNTERS_TAKE = `
local now = tonumber(ARGV[1])
local n = #KEYS / 2
local counts = {}
local ok = 1
for i = 1, n do
  local a = 1 + (i - 1) * 6
  local limit, add, s, e, slides = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4]), ARGV[a + 5]
  local cur = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local prev = 0
  local weight = 0
  if slides == '1' then
    prev = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
    weight = math.min(1, math.max(0, (e - now) / (e - s)))
  end
  local used = cur + prev * weight
  if add > 0 then
    if used + add > limit then ok = 0 end
  elseif used >= limit then ok = 0 end
  counts[2 * i - 1] = tostring(cur)
  counts[2 * i] = tostring(prev)
end
if ok == 1 then
  for i = 1, n do
    local a = 1 + (i - 1) * 6
    local add = tonumber(ARGV[a + 2])
    if add > 0 then
      redis.call('INCRBYFLOAT', KEYS[2 * i - 1], ARGV[a + 2])
      redis.call('PEXPIRE', KEYS[2 * i - 1], ARGV[a + 6])
    end
  end
end
counts[2 * n + 1] = ok
return counts`;

/**
 * The Lua side of add. KEYS[1]: the once-marker; then one key per amount. ARGV: marker TTL (ms), then per amount:
 * amount, ttlMs. Returns 0 when the marker existed (nothing added).
 */
export const COUNTERS_ADD = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) == false then return 0 end
for i = 2, #KEYS do
  local a = 2 + (i - 2) * 2
  redis.call('INCRBYFLOAT', KEYS[i], ARGV[a])
  redis.call('PEXPIRE', KEYS[i], ARGV[a + 1])
end
return 1`;

/** How long an `add` marker is kept: longer than any redelivery of the event it guards. */
export const ONCE_TTL_MS = 24 * 3600 * 1000;
