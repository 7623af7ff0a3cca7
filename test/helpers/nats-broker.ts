/**
 * A private nats-server with one connection and the fit's broker (the streams and bucket made), for the tests of one
 * describe block: started before them, stopped (by pid) after them. The fields are set once `beforeAll` has run.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll } from 'vitest';
import { createBroker, type Broker } from '../../src/cluster/broker.js';
import { connectCluster } from '../../src/cluster/connect.js';
import { startNatsServer, type NatsServer } from './nats-server.js';

export interface BrokerFixture {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly broker: Broker;
}

export function useBroker(): BrokerFixture {
  const held: { server?: NatsServer; nc?: NatsConnection; broker?: Broker } = {};
  beforeAll(async () => {
    held.server = await startNatsServer();
    held.nc = await connectCluster({ servers: held.server.url });
    held.broker = await createBroker(held.nc, held.server.url, { replicas: 1 });
  }, 60_000);
  afterAll(async () => {
    await held.nc?.close();
    await held.server?.dispose();
  });
  return {
    get server() { return held.server!; },
    get nc() { return held.nc!; },
    get broker() { return held.broker!; },
  };
}
