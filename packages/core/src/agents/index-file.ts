// A fitted agent index as bytes: a JSON header (shapes, ids, categories) and one binary section of the typed
// arrays it points into, so an instance that starts loads the index in milliseconds instead of refitting it.
import { InvalidInputError } from '../errors.ts';
import type { AgentIndexState, Category } from './agent-index.ts';
import type { LdaState } from './lda.ts';
import type { SparseVec } from './sparse.ts';

const MAGIC = 'moma-agent-index';
const VERSION = 1;

type Ref = { o: number; n: number; t: 'f32' | 'u32' };

/** Serialises a fitted index; `key` identifies its inputs (agents, taxonomy, options, encoder) for the reader. */
export function encodeAgentIndex(state: AgentIndexState, key: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (a: Float32Array | Uint32Array): Ref => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const ref: Ref = { o: offset, n: a.length, t: a instanceof Float32Array ? 'f32' : 'u32' };
    chunks.push(bytes);
    offset += bytes.byteLength;
    return ref;
  };
  const vec = (v: SparseVec) => ({ i: put(v.idx), v: put(v.val) });
  const lda = (l: LdaState) => ({ dim: l.dim, classes: l.classes, scale: l.scale, w: put(l.w), b: put(l.b) });
  const header = {
    magic: MAGIC,
    version: VERSION,
    key,
    agentIds: state.agentIds,
    lexical: { ...state.lexical, idf: put(Float32Array.from(state.lexical.idf)) },
    semantic: state.semantic ?? null,
    head: state.head ? { dim: state.head.dim, w: put(state.head.w), b: put(state.head.b), ...(state.head.rows ? { rows: put(state.head.rows) } : {}) } : null,
    lda: state.lda ? lda(state.lda) : null,
    ...(state.static ? { static: { id: state.static.id, dim: state.static.dim, lda: lda(state.static.lda) } } : {}),
    ...(state.joint ? { joint: { dim: state.joint.dim, denseFrom: state.joint.denseFrom, candidates: state.joint.candidates, w: put(state.joint.w), b: put(state.joint.b), ...(state.joint.rows ? { rows: put(state.joint.rows) } : {}) } } : {}),
    centroids: state.centroids.map(vec),
    samples: state.samples ? { vecs: state.samples.vecs.map(vec), agent: state.samples.agent } : null,
    ...(state.support ? { support: { vecs: put(state.support.vecs), agent: put(state.support.agent) } } : {}),
    categories: state.categories.map((c) => ({ id: c.id, members: c.members, text: c.text ? vec(c.text) : null })),
    ...(state.texts !== undefined ? { texts: state.texts } : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + pad(json.byteLength) + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.byteLength, true);
  view.setUint32(4, VERSION, true);
  out.set(json, 8);
  let at = 8 + json.byteLength + pad(json.byteLength);
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// typed arrays need 4-byte alignment: the binary section starts on one
const pad = (n: number): number => (4 - ((8 + n) % 4)) % 4;

/** The key a saved index was written with, read from its header alone; undefined when the bytes are not an index. */
export function savedIndexKey(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  if (view.getUint32(4, true) !== VERSION || 8 + len > bytes.byteLength) return undefined;
  try {
    const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as { magic?: unknown; key?: unknown };
    return h.magic === MAGIC && typeof h.key === 'string' ? h.key : undefined;
  } catch {
    return undefined;
  }
}

/** Reads what encodeAgentIndex wrote; InvalidInputError when the bytes are not an index or not this version. */
export function decodeAgentIndex(bytes: Uint8Array): { key: string; state: AgentIndexState } {
  const bad = (why: string) => new InvalidInputError(`not a readable agent index: ${why}`, 'index');
  if (bytes.byteLength < 8) throw bad('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  if (view.getUint32(4, true) !== VERSION || 8 + len > bytes.byteLength) throw bad('unknown version or truncated header');
  let h;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw bad('header is not JSON');
  }
  if (h?.magic !== MAGIC) throw bad('wrong magic');
  const base = 8 + len + pad(len);
  // copy into fresh aligned buffers: the input may be a Buffer slice at any offset (and a Buffer's slice() is a view)
  const get = (r: Ref): Float32Array | Uint32Array => {
    const end = base + r.o + r.n * 4;
    if (end > bytes.byteLength) throw bad('truncated data');
    const copy = new Uint8Array(bytes.subarray(base + r.o, end));
    return r.t === 'f32' ? new Float32Array(copy.buffer) : new Uint32Array(copy.buffer);
  };
  const vec = (v: { i: Ref; v: Ref }): SparseVec => ({ idx: get(v.i) as Uint32Array, val: get(v.v) as Float32Array });
  const lda = (l: { dim: number; classes: number; scale: number; w: Ref; b: Ref }): LdaState => ({ dim: l.dim, classes: l.classes, scale: l.scale, w: get(l.w) as Float32Array, b: get(l.b) as Float32Array });
  const state: AgentIndexState = {
    agentIds: h.agentIds,
    lexical: { ...h.lexical, idf: Array.from(get(h.lexical.idf)) },
    ...(h.semantic ? { semantic: h.semantic } : {}),
    ...(h.head ? { head: { dim: h.head.dim, w: get(h.head.w) as Float32Array, b: get(h.head.b) as Float32Array, ...(h.head.rows ? { rows: get(h.head.rows) as Uint32Array } : {}) } } : {}),
    ...(h.lda ? { lda: lda(h.lda) } : {}),
    ...(h.static ? { static: { id: h.static.id, dim: h.static.dim, lda: lda(h.static.lda) } } : {}),
    ...(h.joint ? { joint: { dim: h.joint.dim, denseFrom: h.joint.denseFrom, candidates: h.joint.candidates, w: get(h.joint.w) as Float32Array, b: get(h.joint.b) as Float32Array, ...(h.joint.rows ? { rows: get(h.joint.rows) as Uint32Array } : {}) } } : {}),
    centroids: h.centroids.map(vec),
    ...(h.samples ? { samples: { vecs: h.samples.vecs.map(vec), agent: h.samples.agent } } : {}),
    ...(h.support ? { support: { vecs: get(h.support.vecs) as Float32Array, agent: get(h.support.agent) as Uint32Array } } : {}),
    categories: h.categories.map((c: { id: string; members: number[]; text: { i: Ref; v: Ref } | null }): Category => ({ id: c.id, members: c.members, text: c.text ? vec(c.text) : null })),
    ...(typeof h.texts === 'number' ? { texts: h.texts } : {}),
  };
  return { key: h.key, state };
}
