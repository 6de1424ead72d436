// @moma/launcher: starts the whole system on one machine (`pnpm start` runs main.ts). Tests and benches use the
// fleet to run every service as its own process.
export { spawnFleet, waitHealthy, SERVICES, type Fleet, type FleetOptions, type ServiceName } from './processes.ts';
export { startEmbedded, type Embedded } from './embedded.ts';
export { loadLauncherConfig, type LauncherConfig } from './config.ts';
