// Tiny codecs for bus tests, so the platform's tests depend on the Codec contract and not on routing messages.
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Codec } from '../contracts.ts';

export interface Echo {
  text: string;
  n: number;
}

/** protobuf-encoded {1: string text, 2: int32 n}, written like ts-proto output. */
export const EchoCodec: Codec<Echo> = {
  encode(m, w = new BinaryWriter()) {
    if (m.text !== '') w.uint32(10).string(m.text);
    if (m.n !== 0) w.uint32(16).int32(m.n);
    return w;
  },
  decode(input, length) {
    const r = input instanceof BinaryReader ? input : new BinaryReader(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: Echo = { text: '', n: 0 };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === 10) m.text = r.string();
      else if (tag === 16) m.n = r.int32();
      else r.skip(tag & 7);
    }
    return m;
  },
};

/** Decodes nothing: every request through it is malformed (exercises INVALID_ARGUMENT on bad payloads). */
export const RejectingCodec: Codec<Echo> = {
  encode: EchoCodec.encode,
  decode() {
    throw new Error('malformed payload');
  },
};
