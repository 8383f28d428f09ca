import { closeTestCryptoPool } from './crypto-pool.ts';
import { stopSharedRedis } from './redis.ts';

/** mocha root hooks: stop the shared redis-server and the crypto pool when the run ends. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedRedis();
    await closeTestCryptoPool();
  },
};
