// Distils the full encoder into a static table (Model2Vec-style): each sentencepiece token embedded alone by the
// full model, the table's mean direction removed (it is shared by every token and says nothing), stored as int8
// with one scale per row. A text's static vector is then a weighted mean of its tokens' rows: ~0.05 ms, no tfjs.
import type { UseModel } from './use-model.ts';

export interface StaticTable {
  /** The full encoder this table was distilled from. */
  source: string;
  dim: number;
  /** rows × dim, int8; row r scaled by scales[r]. */
  data: Int8Array;
  scales: Float32Array;
}

/** Embeds token ids one per row, in batches, with the model's own graph (ids, not text, so no re-tokenising). */
export async function distillTable(model: UseModel, vocabSize: number, batch = 512): Promise<StaticTable> {
  const dim = model.dim;
  const rows: Float32Array[] = [];
  for (let s = 0; s < vocabSize; s += batch) {
    const ids = Array.from({ length: Math.min(batch, vocabSize - s) }, (_, i) => s + i);
    rows.push(...(await model.embedTokens(ids.map((id) => [id]))));
  }
  const mean = new Float64Array(dim);
  for (const r of rows) for (let i = 0; i < dim; i++) mean[i]! += r[i]! / rows.length;
  const data = new Int8Array(rows.length * dim);
  const scales = new Float32Array(rows.length);
  rows.forEach((r, k) => {
    let max = 0;
    for (let i = 0; i < dim; i++) {
      r[i] = r[i]! - mean[i]!;
      max = Math.max(max, Math.abs(r[i]!));
    }
    const scale = max > 0 ? max / 127 : 1;
    scales[k] = scale;
    for (let i = 0; i < dim; i++) data[k * dim + i] = Math.round(r[i]! / scale);
  });
  return { source: model.id, dim, data, scales };
}
