import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from './config.ts';

describe('gateway config', () => {
  it('gateway config - the executor address follows EXECUTOR_GRPC_PORT unless EXECUTOR_ADDR says otherwise', () => {
    expect(loadGatewayConfig({}).EXECUTOR_ADDR).toBe('127.0.0.1:50052');
    expect(loadGatewayConfig({ EXECUTOR_GRPC_PORT: '6000' }).EXECUTOR_ADDR).toBe('127.0.0.1:6000');
    expect(loadGatewayConfig({ EXECUTOR_GRPC_PORT: '6000', EXECUTOR_ADDR: 'dns:///executor:50052' }).EXECUTOR_ADDR).toBe('dns:///executor:50052');
  });

  it('gateway config - GATEWAY_HEALTH_PORT moves the gateway alone; HEALTH_PORT is the fallback of a service run alone', () => {
    expect(loadGatewayConfig({}).HEALTH_PORT).toBe(9100);
    expect(loadGatewayConfig({ HEALTH_PORT: '7000' }).HEALTH_PORT).toBe(7000);
    expect(loadGatewayConfig({ HEALTH_PORT: '7000', GATEWAY_HEALTH_PORT: '7100' }).HEALTH_PORT).toBe(7100);
    expect(loadGatewayConfig({ INTENT_HEALTH_PORT: '7200' }).HEALTH_PORT).toBe(9100);
    expect(() => loadGatewayConfig({ GATEWAY_HEALTH_PORT: 'x' })).toThrow(/GATEWAY_HEALTH_PORT/);
  });
});
