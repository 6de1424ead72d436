import { HashingEncoder, type HashingEncoderState } from '../encoder/index.ts';
import { InvalidInputError } from '../errors.ts';
import { SoftmaxHead, type SoftmaxHeadOptions } from './head.ts';
import { toSparse, type SparseVec } from './sparse.ts';

/** One dialogue turn for fitting: the user turn, the system turn before it, and whether the user changed service. */
export interface ShiftSample {
  user: string;
  system: string;
  shifted: boolean;
}

/**
 * Topic-shift detector: P(the user turns to a new task) from the user turn and the system turn before it.
 * It is domain-general ("can you also find me…", "no thanks, that's all" after "anything else?"), so it can be fitted
 * on dialogues of other services than the ones registered, and lets the state machine tell an answer to the agent's
 * question from a new request.
 */
export class ShiftDetector {
  private readonly encoder: HashingEncoder;
  private readonly head: SoftmaxHead;
  private readonly probs = new Float32Array(2);

  constructor(encoder: HashingEncoder, head: SoftmaxHead) {
    this.encoder = encoder;
    this.head = head;
  }

  static fit(samples: readonly ShiftSample[], opts: { dim?: number; head?: SoftmaxHeadOptions } = {}): ShiftDetector {
    if (samples.length === 0) throw new InvalidInputError('shift detector needs at least one sample', 'samples');
    const dim = opts.dim ?? 1 << 14;
    const encoder = HashingEncoder.fit(
      samples.flatMap((s) => [s.user, s.system]),
      { dim, wordNgrams: 2, charNgrams: [0, 0] },
    );
    const det = new ShiftDetector(encoder, new SoftmaxHead(2 * dim, 2));
    const xs = samples.map((s) => det.features(s.user, s.system));
    const head = SoftmaxHead.fit(xs, samples.map((s) => (s.shifted ? 1 : 0)), 2 * dim, 2, { epochs: 6, learningRate: 0.5, ...opts.head });
    return new ShiftDetector(encoder, head);
  }

  /** The encoder state, for callers that store a fitted detector. */
  get encoderState(): HashingEncoderState {
    return this.encoder.state;
  }

  /** User features in [0, dim), system features in [dim, 2·dim): the same word means different things in each. */
  private features(user: string, system: string): SparseVec {
    const u = toSparse(this.encoder.encode(user));
    const s = toSparse(this.encoder.encode(system || '<start>'));
    const idx = new Uint32Array(u.idx.length + s.idx.length);
    const val = new Float32Array(idx.length);
    idx.set(u.idx);
    val.set(u.val);
    for (let i = 0; i < s.idx.length; i++) {
      idx[u.idx.length + i] = s.idx[i]! + this.encoder.dim;
      val[u.idx.length + i] = s.val[i]!;
    }
    return { idx, val };
  }

  /** Probability in [0,1] that the user turn starts a new task. */
  score(user: string, system: string): number {
    return this.head.probsInto(this.features(user, system), this.probs)[1]!;
  }
}
