import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/lifecycle.ts';
import { value } from '../helpers/metrics.ts';
import { sharedRedis, uniquePrefix } from '../helpers/redis.ts';

/**
 * Scheduled jobs (reconcile, pickup expiry, key refresh) are BullMQ job schedulers in Redis, upserted by
 * every worker under one id: however many workers run, each tick is one job, run by one of them. Two
 * worker processes on one Redis (two compositions, each with its own connections and metrics) with a
 * reconcile every second run about one reconcile per second between them, not one each.
 */
describe('worker: scheduled maintenance runs once per tick across workers', function () {
  this.timeout(60_000);
  const gateways: TestGateway[] = [];
  afterEach(async () => {
    for (const g of gateways.splice(0)) {
      await g.sealpost.workers?.close();
      await g.close();
    }
  });

  it('two workers on one Redis: one reconcile per tick between them', async () => {
    const redis = await sharedRedis();
    const queuePrefix = uniquePrefix();
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startTestGateway({
          kind: 'sqlite',
          redis,
          config: { queuePrefix, delivery: { reconcileEverySeconds: 1 } },
          services: ['worker'],
        }),
      );
    }
    const runs = async (): Promise<number[]> =>
      Promise.all(
        gateways.map(async (g) =>
          value(await g.sealpost.deps.metrics!.text(), 'sealpost_maintenance_runs_total', {
            task: 'reconcile',
          }),
        ),
      ).then((vs) => vs.map((v) => v ?? 0));
    const started = Date.now();
    await Promise.all(gateways.map((g) => g.sealpost.workers!.start()));
    await until('eight reconcile ticks', async () => (await runs()).reduce((a, b) => a + b) >= 8, 30_000);
    const seconds = (Date.now() - started) / 1000;
    const perWorker = await runs();
    const total = perWorker[0]! + perWorker[1]!;
    // One job per tick: never more than the ticks that fit (one at the start, one per second after it, one in flight).
    assert.ok(
      total <= Math.floor(seconds) + 2,
      `${total} reconciles in ${seconds.toFixed(1)} s (${perWorker})`,
    );
    // Each schedule of its own would have made it twice as many, one per worker and tick.
    assert.ok(seconds >= 6, `8 reconciles came within ${seconds.toFixed(1)} s: more than one per tick`);
  });
});
