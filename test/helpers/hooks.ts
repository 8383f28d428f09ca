import { stopSharedRedis } from './redis.ts';

/** mocha root hooks: stop the shared redis-server when the run ends. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedRedis();
  },
};
