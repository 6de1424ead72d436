// Which features the LLM router is trained on, and loading the semantic encoder an artifact records. The core takes
// the encoder injected; this is where it is read from disk (@moma/semantic's static table).
import type { Encoder, RouterArtifact } from '@moma/core';
import type { SemanticPlan } from './pipeline.ts';

export const ENCODER_CHOICES = ['lexical', 'static', 'fused'] as const;
export type EncoderChoice = (typeof ENCODER_CHOICES)[number];
/**
 * What `moma train` / `moma eval` use when --encoder is not given: fused (weight 0.5) did best of the three on every
 * held-out task split measured (MMLU APGR 0.589 vs lexical 0.545 and static 0.524; RouterBench AIQ 0.835 vs 0.833;
 * LLMRouter 0.486 vs 0.479); see docs/llm-routing.md, "Semantic features".
 */
export const DEFAULT_ENCODER: EncoderChoice = 'fused';
/** The semantic part's weight of `fused` when --semantic-weight is not given. */
export const DEFAULT_SEMANTIC_WEIGHT = 0.5;

let staticEncoder: Promise<Encoder> | undefined;

/** The static (distilled Universal Sentence Encoder) encoder, loaded once per process. */
export function staticSemanticEncoder(): Promise<Encoder> {
  staticEncoder ??= import('@moma/semantic').then((m) => m.loadStaticEncoder());
  return staticEncoder;
}

export function parseEncoderChoice(v: string | undefined): EncoderChoice | undefined {
  const c = v ?? DEFAULT_ENCODER;
  return (ENCODER_CHOICES as readonly string[]).includes(c) ? (c as EncoderChoice) : undefined;
}

/** The semantic part of the features for --encoder (none for lexical; weight 1 for static, `weight` for fused). */
export async function semanticPlan(choice: EncoderChoice, weight = DEFAULT_SEMANTIC_WEIGHT): Promise<SemanticPlan | undefined> {
  if (choice === 'lexical') return undefined;
  if (choice === 'fused' && !(weight > 0 && weight < 1)) throw new Error(`--semantic-weight must be in (0, 1) for --encoder fused, got ${weight}`);
  return { encoder: await staticSemanticEncoder(), weight: choice === 'static' ? 1 : weight };
}

/** The semantic encoder an artifact was trained with (undefined for a lexical artifact); refuses one it cannot load. */
export async function semanticEncoderFor(artifact: Pick<RouterArtifact, 'semantic'>): Promise<Encoder | undefined> {
  if (!artifact.semantic) return undefined;
  const enc = await staticSemanticEncoder();
  if (enc.id !== artifact.semantic.id) {
    throw new Error(`the artifact was trained with the semantic encoder ${artifact.semantic.id}; this install has ${enc.id} (@moma/semantic) only`);
  }
  return enc;
}
