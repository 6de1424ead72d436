// Decodes OTLP ExportTraceServiceRequest (protobuf or JSON) into flat spans. Hand-written over the wire reader
// because only a handful of fields matter to tests (field numbers from opentelemetry-proto trace/v1).
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export type AttrValue = string | number | boolean | bigint | AttrValue[] | { [key: string]: AttrValue } | Uint8Array | null;

export interface ReceivedSpan {
  serviceName: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  scope: string;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string;
  events: Array<{ name: string; attributes: Record<string, AttrValue> }>;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Calls `onField(fieldNo, wireType)` for each field of the message in `bytes`; unhandled fields are skipped. */
function fields(bytes: Uint8Array, onField: (r: BinaryReader, no: number, wt: WireType) => boolean): void {
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (!onField(r, no, wt)) r.skip(wt, no);
  }
}

function anyValue(bytes: Uint8Array): AttrValue {
  let v: AttrValue = null;
  fields(bytes, (r, no) => {
    if (no === 1) v = r.string();
    else if (no === 2) v = r.bool();
    else if (no === 3) {
      const n = BigInt(r.int64());
      v = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    } else if (no === 4) v = r.double();
    else if (no === 5) {
      const arr: AttrValue[] = [];
      fields(r.bytes(), (rr, n2) => (n2 === 1 ? (arr.push(anyValue(rr.bytes())), true) : false));
      v = arr;
    } else if (no === 6) v = keyValues(r.bytes(), 1);
    else if (no === 7) v = r.bytes();
    else return false;
    return true;
  });
  return v;
}

/** KeyValue list at field `fieldNo` of a message. */
function keyValues(bytes: Uint8Array, fieldNo: number): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  fields(bytes, (r, no) => {
    if (no !== fieldNo) return false;
    let key = '';
    let value: AttrValue = null;
    fields(r.bytes(), (rr, n2) => {
      if (n2 === 1) key = rr.string();
      else if (n2 === 2) value = anyValue(rr.bytes());
      else return false;
      return true;
    });
    out[key] = value;
    return true;
  });
  return out;
}

function span(bytes: Uint8Array, resource: Record<string, AttrValue>, scope: string): ReceivedSpan {
  const s: ReceivedSpan = {
    serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : '',
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    resource,
    scope,
    statusCode: 0,
    statusMessage: '',
    events: [],
  };
  const attrChunks: Uint8Array[] = [];
  fields(bytes, (r, no) => {
    if (no === 1) s.traceId = hex(r.bytes());
    else if (no === 2) s.spanId = hex(r.bytes());
    else if (no === 4) s.parentSpanId = hex(r.bytes());
    else if (no === 5) s.name = r.string();
    else if (no === 6) s.kind = r.int32();
    else if (no === 7) s.startTimeUnixNano = BigInt(r.fixed64());
    else if (no === 8) s.endTimeUnixNano = BigInt(r.fixed64());
    else if (no === 9) attrChunks.push(r.bytes());
    else if (no === 11) {
      let name = '';
      const ev: Uint8Array[] = [];
      fields(r.bytes(), (rr, n2) => {
        if (n2 === 2) name = rr.string();
        else if (n2 === 3) ev.push(rr.bytes());
        else return false;
        return true;
      });
      s.events.push({ name, attributes: Object.assign({}, ...ev.map((c) => keyValuePair(c))) });
    } else if (no === 15) {
      fields(r.bytes(), (rr, n2) => {
        if (n2 === 2) s.statusMessage = rr.string();
        else if (n2 === 3) s.statusCode = rr.int32();
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  s.attributes = Object.assign({}, ...attrChunks.map((c) => keyValuePair(c)));
  return s;
}

/** One KeyValue message as a one-entry record. */
function keyValuePair(bytes: Uint8Array): Record<string, AttrValue> {
  let key = '';
  let value: AttrValue = null;
  fields(bytes, (r, no) => {
    if (no === 1) key = r.string();
    else if (no === 2) value = anyValue(r.bytes());
    else return false;
    return true;
  });
  return { [key]: value };
}

export function decodeTraceRequestProto(body: Uint8Array): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  fields(body, (r, no) => {
    if (no !== 1) return false;
    let resource: Record<string, AttrValue> = {};
    const scopeChunks: Uint8Array[] = [];
    fields(r.bytes(), (rr, n2) => {
      if (n2 === 1) resource = keyValues(rr.bytes(), 1);
      else if (n2 === 2) scopeChunks.push(rr.bytes());
      else return false;
      return true;
    });
    for (const chunk of scopeChunks) {
      let scope = '';
      const spans: Uint8Array[] = [];
      fields(chunk, (rr, n2) => {
        if (n2 === 1) fields(rr.bytes(), (r3, n3) => (n3 === 1 ? ((scope = r3.string()), true) : false));
        else if (n2 === 2) spans.push(rr.bytes());
        else return false;
        return true;
      });
      for (const sb of spans) out.push(span(sb, resource, scope));
    }
    return true;
  });
  return out;
}

// --- OTLP/JSON (ids are hex strings, ints may be strings) -------------------------------------------------

interface JsonKv {
  key?: string;
  value?: Record<string, unknown>;
}

function jsonAny(v: Record<string, unknown> | undefined): AttrValue {
  if (!v) return null;
  if ('stringValue' in v) return String(v.stringValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) {
    const values = (v.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? [];
    return values.map(jsonAny);
  }
  if ('kvlistValue' in v) return jsonKvs((v.kvlistValue as { values?: JsonKv[] }).values);
  return null;
}

function jsonKvs(list: JsonKv[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list ?? []) if (kv.key) out[kv.key] = jsonAny(kv.value);
  return out;
}

interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: JsonKv[];
  status?: { code?: number; message?: string };
  events?: Array<{ name?: string; attributes?: JsonKv[] }>;
}
interface JsonTraceRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: JsonKv[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: JsonSpan[] }>;
  }>;
}

export function decodeTraceRequestJson(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const r of (body as JsonTraceRequest).resourceSpans ?? []) {
    const resource = jsonKvs(r.resource?.attributes);
    for (const ss of r.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        out.push({
          serviceName: typeof resource['service.name'] === 'string' ? resource['service.name'] : '',
          traceId: String(sp.traceId ?? ''),
          spanId: String(sp.spanId ?? ''),
          parentSpanId: String(sp.parentSpanId ?? ''),
          name: String(sp.name ?? ''),
          kind: Number(sp.kind ?? 0),
          startTimeUnixNano: BigInt(sp.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(sp.endTimeUnixNano ?? 0),
          attributes: jsonKvs(sp.attributes),
          resource,
          scope: String(ss.scope?.name ?? ''),
          statusCode: Number(sp.status?.code ?? 0),
          statusMessage: String(sp.status?.message ?? ''),
          events: (sp.events ?? []).map((e) => ({ name: String(e.name ?? ''), attributes: jsonKvs(e.attributes) })),
        });
      }
    }
  }
  return out;
}
