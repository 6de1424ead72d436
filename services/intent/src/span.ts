// TEMPORARY shim until @moma/platform's index exports withSpan (same signature).
interface SpanLike {
  setAttribute(k: string, v: unknown): void;
  setAttributes(a: Record<string, unknown>): void;
}
export function withSpan<T>(_name: string, _attrs: Record<string, unknown>, fn: (span: SpanLike) => Promise<T>): Promise<T> {
  return fn({ setAttribute() {}, setAttributes() {} });
}
