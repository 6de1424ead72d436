// NATS subject matching, shared by the memory bus (which must route like NATS) and the JetStream stream check.
import { Code, MomaError } from './errors.ts';

/** True when `subject` matches `pattern` with NATS wildcards (`*` = one token, `>` = one or more trailing tokens). */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const tok = p[i];
    if (tok === '>') return s.length > i;
    if (i >= s.length) return false;
    if (tok !== '*' && tok !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Rejects subjects NATS would reject, with a message that says why (empty tokens, whitespace). */
export function assertValidSubject(subject: string, allowWildcards = false): void {
  const tokens = subject.split('.');
  const bad =
    subject.length === 0 ||
    /\s/.test(subject) ||
    tokens.some((t) => t.length === 0) ||
    (!allowWildcards && tokens.some((t) => t === '*' || t === '>')) ||
    tokens.slice(0, -1).some((t) => t === '>');
  // A bad subject is a bug in the calling code, not bad user input.
  if (bad) throw new MomaError(Code.INTERNAL, `invalid NATS subject ${JSON.stringify(subject)}`);
}
