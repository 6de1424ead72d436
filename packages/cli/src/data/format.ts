// The routing-data format (moma-routing-data v1): one JSON object per line, one prompt per row, with every profiled
// model's score on it. `moma data import` writes it from RouterBench, RouteLLM and LLMRouter files; `moma profile`
// writes it from your own pool; `moma train` and `moma eval` read it. The JSON Schema committed at
// schemas/routing-data.schema.json is generated from `routingRowSchema` (a test keeps the two equal).
import { z } from 'zod';

export const ROUTING_DATA_FORMAT = 'moma-routing-data/v1';

/**
 * The five pairwise classes of the MoMA paper, in ASCII: a≈b (`a=b`), a>b, a<b, a≫b (`a>>b`), a≪b (`a<<b`). The
 * Unicode spellings are accepted as aliases.
 */
export const PAIR_LABELS = ['a=b', 'a>b', 'a<b', 'a>>b', 'a<<b'] as const;
export type PairLabel = (typeof PAIR_LABELS)[number];
const LABEL_ALIASES: Record<string, PairLabel> = { 'a≈b': 'a=b', 'a≫b': 'a>>b', 'a≪b': 'a<<b' };

const modelId = z.string().min(1).max(200);

const message = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.string(),
  })
  .strict();

const score = z.union([z.number().min(0).max(1), z.boolean(), z.null()]).describe('quality in [0,1], true/false, or null = not measured');

const tokens = z
  .object({
    prompt: z.number().int().nonnegative(),
    completion: z.number().int().nonnegative(),
  })
  .strict();

export const judgementSchema = z
  .object({
    a: modelId,
    b: modelId,
    label: z.preprocess((v) => (typeof v === 'string' && v in LABEL_ALIASES ? LABEL_ALIASES[v] : v), z.enum(PAIR_LABELS)),
    /** The judge model, and the judge prompt's version (judge/prompts/*.md). */
    judge: z.string().optional(),
    prompt_version: z.string().optional(),
  })
  .strict();

export const routingRowSchema = z
  .object({
    id: z.string().min(1).max(500).describe('unique within the dataset'),
    prompt: z.string().optional().describe('the query (or the last user turn when messages are given)'),
    messages: z.array(message).min(1).optional().describe('the conversation, oldest first; the routed turn is the last user message'),
    task: z.string().min(1).max(200).describe('task or category, the group results are reported by'),
    source: z.string().max(200).optional().describe('where the row comes from (benchmark, log, ...)'),
    split: z.enum(['train', 'val', 'test']).optional().describe("the file's own split; honoured when present"),
    reference: z.string().optional().describe('a reference answer, for pointwise judging'),
    scores: z.record(modelId, score).describe('per model: its quality on this prompt'),
    tokens: z.record(modelId, tokens).optional().describe('per model: tokens billed for its answer'),
    cost_usd: z.record(modelId, z.number().nonnegative()).optional().describe('per model: USD billed for its answer'),
    responses: z.record(modelId, z.string()).optional().describe("per model: its answer (profile writes them; optional)"),
    judgements: z.array(judgementSchema).optional().describe('pairwise comparisons of two models on this prompt'),
  })
  .strict()
  .refine((r) => r.prompt !== undefined || r.messages !== undefined, { message: 'give prompt or messages', path: ['prompt'] })
  .refine((r) => Object.keys(r.scores).length > 0, { message: 'scores must name at least one model', path: ['scores'] });

export type RoutingDataRow = z.output<typeof routingRowSchema>;

/** Prices per model, USD per 1M tokens: `--prices FILE`, or the `prices` of MOMA_PROVIDERS entries. */
export const pricesSchema = z.record(
  modelId,
  z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() }).strict(),
);
export type Prices = z.output<typeof pricesSchema>;

/** The JSON Schema of one row (schemas/routing-data.schema.json). */
export function routingRowJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${ROUTING_DATA_FORMAT}: one row (one JSON object per line of a .jsonl file)`,
    ...(z.toJSONSchema(routingRowSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>),
  };
}

/** The text of a routed turn: the prompt, or the last user message of the conversation (else its last message). */
export function promptOf(r: { prompt?: string | undefined; messages?: ReadonlyArray<{ role: string; content: string }> | undefined }): string {
  if (r.prompt !== undefined) return r.prompt;
  const user = [...(r.messages ?? [])].reverse().find((m) => m.role === 'user');
  return user?.content ?? r.messages!.at(-1)!.content;
}

/** A recorded score as a number (true/false as 1/0); undefined when it is not measured. */
export function scoreValue(v: number | boolean | null | undefined): number | undefined {
  return typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : undefined;
}

/** "scores.gpt-4o: expected number …": the first problem zod found, with the field it is in (`whole` when none). */
export function issueText(err: z.ZodError, whole = '(row)'): string {
  const issue = err.issues[0]!;
  return `${issue.path.length > 0 ? issue.path.map(String).join('.') : whole}: ${issue.message}`;
}

/** "row 12 (id q-7): scores.gpt-4o: expected ..." for the first problem of a row that does not validate. */
export function rowError(where: string, raw: unknown, err: z.ZodError): string {
  const id = typeof (raw as { id?: unknown })?.id === 'string' ? ` (id ${(raw as { id: string }).id})` : '';
  return `${where}${id}: ${issueText(err)}`;
}
