import { z } from 'zod';
import { InvalidInputError } from '../errors.ts';
import { featureDim } from './features.ts';
import type { HeadSpec, RouterArtifact, Tensor } from './types.ts';

export const ARTIFACT_FORMAT = 'moma-llm-router';
export const ARTIFACT_FORMAT_VERSION = 1;

const tensorRef = z.object({ offset: z.number().int().min(0), shape: z.array(z.number().int().min(0)).min(1) });
const modelSchema = z.object({
  id: z.string().min(1),
  inputPricePerMTok: z.number().min(0),
  outputPricePerMTok: z.number().min(0),
  outputTokens: z.number().min(0),
});
const manifestSchema = z.object({
  format: z.literal(ARTIFACT_FORMAT),
  formatVersion: z.literal(ARTIFACT_FORMAT_VERSION),
  name: z.string().min(1),
  version: z.string().min(1),
  encoder: z.object({
    kind: z.literal('hashing-tfidf'),
    dim: z.number().int().positive(),
    wordNgrams: z.number().int().min(1),
    charNgrams: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
    idf: tensorRef,
  }),
  semantic: z.object({ id: z.string().min(1), dim: z.number().int().positive(), weight: z.number().gt(0).max(1) }).optional(),
  tokenizer: z.string().optional(),
  models: z.array(modelSchema).min(1),
  heads: z
    .array(
      z.object({
        kind: z.enum(['linear', 'mlp', 'moe', 'knn']),
        objective: z.enum(['pointwise', 'pairwise']),
        weight: z.number().min(0),
        k: z.number().int().positive().optional(),
        tensors: z.record(z.string(), tensorRef),
      }),
    )
    .min(1),
  modes: z.object({ quality: z.number().positive(), balanced: z.number().positive(), cost: z.number().positive() }),
  training: z.record(z.string(), z.unknown()).default({}),
  derived: z
    .array(modelSchema.extend({ weights: z.array(z.number()), bias: z.number(), anchors: z.number().int().min(0), anchorMae: z.number().min(0) }))
    .optional(),
  removed: z.array(z.string().min(1)).optional(),
});

const REQUIRED: Record<HeadSpec['kind'], string[]> = {
  linear: ['W', 'b'],
  mlp: ['W1', 'b1', 'W2', 'b2'],
  moe: ['W1', 'b1', 'Wg', 'bg', 'We', 'be'],
  knn: ['X', 'Y'],
};

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Parses manifest.json + weights.bin (Float32, little-endian); InvalidInputError names what is malformed. */
export function decodeArtifact(manifest: unknown, weights: Uint8Array): RouterArtifact {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`artifact manifest is malformed at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, 'manifest');
  }
  const m = parsed.data;
  if (weights.byteLength % 4 !== 0) throw new InvalidInputError('artifact weights.bin length is not a multiple of 4', 'weights');
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const floats = weights.byteLength / 4;
  const read = (ref: { offset: number; shape: number[] }, what: string): Tensor => {
    const n = size(ref.shape);
    if (ref.offset + n > floats) throw new InvalidInputError(`artifact tensor ${what} runs past the end of weights.bin`, 'weights');
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32((ref.offset + i) * 4, true);
    return { shape: [...ref.shape], data };
  };
  const M = m.models.length;
  const dim = m.encoder.dim;
  const inDim = featureDim(m);
  const inWhat = m.semantic ? `feature size ${inDim} (lexical ${m.semantic.weight < 1 ? dim : 0} + semantic ${m.semantic.dim})` : `encoder dim ${dim}`;
  const heads: HeadSpec[] = m.heads.map((h, hi) => {
    const tensors: Record<string, Tensor> = {};
    for (const name of REQUIRED[h.kind]) {
      const ref = h.tensors[name];
      if (!ref) throw new InvalidInputError(`artifact head ${hi} (${h.kind}) lacks tensor ${name}`, 'manifest');
      tensors[name] = read(ref, `heads.${hi}.${name}`);
    }
    const first = tensors[REQUIRED[h.kind][0]!]!;
    const last = h.kind === 'knn' ? tensors.Y! : tensors[REQUIRED[h.kind].at(-1)!]!;
    const inputDim = h.kind === 'knn' ? first.shape[1] : first.shape[0];
    if (inputDim !== inDim) throw new InvalidInputError(`artifact head ${hi} input size ${inputDim} ≠ ${inWhat}`, 'manifest');
    if (last.shape.at(-1) !== M) throw new InvalidInputError(`artifact head ${hi} outputs ${last.shape.at(-1)} scores for ${M} models`, 'manifest');
    const spec: HeadSpec = { kind: h.kind, objective: h.objective, weight: h.weight, tensors };
    if (h.k !== undefined) spec.k = h.k;
    return spec;
  });
  const ids = new Set(m.models.map((x) => x.id));
  for (const d of m.derived ?? []) {
    if (d.weights.length !== M) throw new InvalidInputError(`artifact derived model ${d.id} has ${d.weights.length} weights for ${M} models`, 'manifest');
    if (ids.has(d.id)) throw new InvalidInputError(`artifact model ${d.id} is listed twice`, 'manifest');
    ids.add(d.id);
  }
  for (const r of m.removed ?? []) if (!ids.has(r)) throw new InvalidInputError(`artifact removes ${r}, which it does not have`, 'manifest');
  const idf = read(m.encoder.idf, 'encoder.idf');
  if (idf.data.length !== dim) throw new InvalidInputError(`artifact encoder idf has ${idf.data.length} entries for dim ${dim}`, 'manifest');
  return {
    name: m.name,
    version: m.version,
    encoder: { kind: 'hashing-tfidf', dim, wordNgrams: m.encoder.wordNgrams, charNgrams: m.encoder.charNgrams, idf: Array.from(idf.data) },
    ...(m.semantic ? { semantic: { ...m.semantic } } : {}),
    models: m.models.map((x) => ({ ...x })),
    heads,
    modes: { ...m.modes },
    training: m.training,
    ...(m.derived ? { derived: m.derived.map((d) => ({ ...d, weights: [...d.weights] })) } : {}),
    ...(m.removed ? { removed: [...m.removed] } : {}),
  };
}

/** Serialises an artifact: JSON manifest (tensor offsets in floats) + one little-endian Float32 buffer. */
export function encodeArtifact(a: RouterArtifact): { manifest: Record<string, unknown>; weights: Uint8Array } {
  const parts: Float32Array[] = [];
  let offset = 0;
  const put = (data: ArrayLike<number>, shape: number[]): { offset: number; shape: number[] } => {
    const ref = { offset, shape: [...shape] };
    parts.push(Float32Array.from(data));
    offset += data.length;
    return ref;
  };
  const idf = put(a.encoder.idf, [a.encoder.dim]);
  const heads = a.heads.map((h) => {
    const tensors: Record<string, { offset: number; shape: number[] }> = {};
    for (const [name, t] of Object.entries(h.tensors)) tensors[name] = put(t.data, t.shape);
    return { kind: h.kind, objective: h.objective, weight: h.weight, ...(h.k !== undefined ? { k: h.k } : {}), tensors };
  });
  const weights = new Uint8Array(offset * 4);
  const view = new DataView(weights.buffer);
  let at = 0;
  for (const p of parts) for (let i = 0; i < p.length; i++) view.setFloat32(4 * at++, p[i]!, true);
  const manifest = {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    name: a.name,
    version: a.version,
    encoder: { kind: a.encoder.kind, dim: a.encoder.dim, wordNgrams: a.encoder.wordNgrams, charNgrams: a.encoder.charNgrams, idf },
    ...(a.semantic ? { semantic: { id: a.semantic.id, dim: a.semantic.dim, weight: a.semantic.weight } } : {}),
    tokenizer: 'cl100k_base',
    models: a.models.map((m) => ({ ...m })),
    heads,
    modes: { ...a.modes },
    training: a.training,
    ...(a.derived?.length ? { derived: a.derived.map((d) => ({ ...d })) } : {}),
    ...(a.removed?.length ? { removed: [...a.removed] } : {}),
  };
  return { manifest, weights };
}
