export { startGateway, type GatewayHandle, type GatewaySettings } from './app.ts';
export { loadGatewayConfig, gatewayConfigSchema, type GatewayConfig } from './config.ts';
