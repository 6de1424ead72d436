// Conversations that don't bounce: in a session, the LLM ranking is re-ranked knowing the previous turn's model and
// the models that failed earlier in the session. Leaving the previous model costs the switch cost (a prompt cache that
// goes cold, a change of style), in the ranking's own utility units (quality − cost / willingness to pay): another
// model takes the turn only when it beats the previous one by at least that much. A model that failed in the session
// goes behind every other. Pure, so `moma eval` replays exactly what the gateway does.
import type { Candidate, Target } from '@moma/proto/common';
import { isLlm, sameTarget, targetText } from './target.ts';

export interface SessionModels {
  /** The LLM that answered the session's previous turn (none: first turn, or an agent answered it). */
  previous?: Target | undefined;
  /** LLMs that failed earlier in the session. */
  failed?: readonly Target[];
  /** Utility another model must beat the previous one by; 0 (or less) = no stickiness. */
  switchCost: number;
}

export interface SessionRanking {
  /** The ranking to use, chosen first (the candidates' utilities are the scoring's, unchanged). */
  ranked: Candidate[];
  /** What the session changed and why ('' when nothing applied). */
  reason: string;
  /** Whether the previous model was kept although another ranked above it. */
  kept: boolean;
}

const f3 = (x: number): string => x.toFixed(3);

/**
 * Re-ranks `ranked` (best utility first, as scored) for a session turn: failed models last (in their order), then
 * the previous model first unless the best other candidate beats its utility by at least `switchCost`.
 */
export function sessionRanking(ranked: readonly Candidate[], session: SessionModels): SessionRanking {
  const failedIds = new Set((session.failed ?? []).filter((t) => isLlm(t)).map((t) => t.id));
  const failed = (c: Candidate): boolean => isLlm(c.target) && failedIds.has(c.target!.id);
  const healthy = ranked.filter((c) => !failed(c));
  const demoted = ranked.filter(failed);
  const notes: string[] = [];
  if (demoted.length > 0) {
    const names = demoted.map((c) => targetText(c.target)).join(', ');
    if (healthy.length === 0) {
      notes.push(`every candidate failed earlier in this session (${names}): ranked as scored`);
      return { ranked: [...ranked], reason: notes.join('; '), kept: false };
    }
    notes.push(`demoted ${names}: failed earlier in this session`);
  }
  let order = healthy;
  let kept = false;
  const previous = session.previous && isLlm(session.previous) ? session.previous : undefined;
  if (previous && session.switchCost > 0 && !failedIds.has(previous.id)) {
    const own = healthy.find((c) => sameTarget(c.target, previous));
    const best = healthy[0]!;
    const prev = targetText(previous);
    if (!own) {
      notes.push(`${prev} from the previous turn is not eligible for this one`);
    } else if (own === best) {
      notes.push(`stayed on ${prev} from the previous turn`);
    } else {
      const gain = best.utility - own.utility;
      if (gain < session.switchCost) {
        order = [own, ...healthy.filter((c) => c !== own)];
        kept = true;
        notes.push(`kept ${prev} from the previous turn: ${targetText(best.target)} is better by only ${f3(gain)} < switch cost ${f3(session.switchCost)}`);
      } else {
        notes.push(`switched from ${prev} to ${targetText(best.target)}: better by ${f3(gain)} ≥ switch cost ${f3(session.switchCost)}`);
      }
    }
  }
  return { ranked: [...order, ...demoted], reason: notes.join('; '), kept };
}
