// The OTLP/protobuf span exporter, loaded only when an endpoint is configured: its module graph (OTLP transformer,
// protobuf serializer, HTTP transport) is dead weight in a process that exports nothing. startTelemetry is
// synchronous, so this wrapper starts the import at once and queues what arrives before it has loaded.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export class LazyOtlpTraceExporter implements SpanExporter {
  readonly url: string;
  private readonly ready: Promise<SpanExporter>;
  private loaded: SpanExporter | undefined;

  constructor(url: string) {
    this.url = url;
    this.ready = import('@opentelemetry/exporter-trace-otlp-proto').then(({ OTLPTraceExporter }) => {
      this.loaded = new OTLPTraceExporter({ url });
      return this.loaded;
    });
    // A failed import surfaces on the first export (as a FAILED result) rather than as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.loaded) {
      this.loaded.export(spans, resultCallback);
      return;
    }
    this.ready.then(
      (exporter) => exporter.export(spans, resultCallback),
      (err: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) }),
    );
  }

  async shutdown(): Promise<void> {
    const exporter = await this.ready.catch(() => undefined);
    await exporter?.shutdown();
  }

  async forceFlush(): Promise<void> {
    const exporter = await this.ready.catch(() => undefined);
    await exporter?.forceFlush?.();
  }
}
