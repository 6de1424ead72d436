// `node --import @moma/platform/telemetry-register services/x/src/main.ts`: tracing is set up before the app's
// first line runs. main.ts may still call startTelemetry(name): it returns this same handle.
import { startTelemetry } from './telemetry.ts';
import { loadCommonConfig } from './config.ts';
import { onShutdown } from './shutdown.ts';

const telemetry = startTelemetry(loadCommonConfig().OTEL_SERVICE_NAME ?? 'moma');
onShutdown(() => telemetry.shutdown(), { last: true });
