import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Clock } from '../../core/clock.ts';
import type { ConfigInput } from '../../core/config.ts';
import type { LimitStore } from '../../core/limit-store.ts';
import type { RedisTarget } from '../../core/redis.ts';
import type { Discoverer } from '../../keys/index.ts';
import type { Workers } from '../../worker/index.ts';
import type { TestDbKind } from './db.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';
import { sharedRedis, uniquePrefix } from './redis.ts';
import { startSink, type Sink } from './sink.ts';

/**
 * The whole Sealpost stack for pickup tests, every part real: the gateway (submission on port 0), the
 * worker delivering over BullMQ (shared test Redis, own prefix) to a real SMTP sink, and the webmail
 * (API, and the pickup pages when `pages` is given) on port 0, its public URL its own loopback address.
 *
 *   const stack = await startStack({ kind });
 *   await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', ... });
 *   const [notification, receipt] = await stack.sink.waitFor(2);
 *   await fetch(`${stack.web}/api/pickup/...`);
 */
export interface Stack {
  readonly gw: TestGateway;
  readonly sink: Sink;
  readonly workers: Workers;
  /** The webmail's base URL, e.g. http://127.0.0.1:40123 (also config.publicUrl). */
  readonly web: string;
  readonly redis: RedisTarget;
  close(): Promise<void>;
}

export interface StackOptions {
  kind: TestDbKind;
  config?: Omit<ConfigInput, 'limits' | 'relay' | 'publicUrl' | 'queuePrefix'>;
  clock?: Clock;
  pages?: Router;
  /** Default: the shared test redis-server. */
  redis?: RedisTarget;
  /** Key discovery for the gateway and the worker's refresh (test/helpers/key-directory.ts); default none. */
  discovery?: Discoverer;
  /** Where the gateway's and the webmail's limits count; default: the gateway helper's own (the caller's
   * to close when given). */
  limitStore?: LimitStore;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const sink = await startSink();
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const web = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redis = options.redis ?? (await sharedRedis());
  // One composition (cli/sealpost.ts): the gateway, the worker and the webmail share one database, key
  // store, discoverer, limit store and delivery queue, as in `sealpost start`.
  const gw = await startTestGateway({
    kind: options.kind,
    redis,
    ...(options.clock ? { clock: options.clock } : {}),
    config: { ...options.config, relay: sink.relayUrl, publicUrl: web, queuePrefix: uniquePrefix() },
    services: ['gateway', 'worker', 'webmail'],
    ...(options.pages ? { pages: options.pages } : {}),
    ...(options.discovery ? { discovery: options.discovery } : {}),
    ...(options.limitStore ? { limitStore: options.limitStore } : {}),
  });
  const workers = gw.sealpost.workers!;
  await workers.start();
  const app = gw.sealpost.app!;
  server.on('request', app);
  return {
    gw,
    sink,
    workers,
    web,
    redis,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await workers.close();
      await gw.close();
      await sink.close();
    },
  };
}
