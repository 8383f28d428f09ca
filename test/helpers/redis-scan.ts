import { connectRedis, type RedisTarget } from '../../core/redis.ts';

/** Every key and value in a Redis (strings, hashes, lists, sets, sorted sets, streams) as one buffer. */
export async function redisContents(target: RedisTarget): Promise<Buffer> {
  const redis = connectRedis(target);
  const out: Buffer[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', 500);
      cursor = next.toString();
      for (const key of keys) {
        out.push(key);
        const type = await redis.type(key);
        if (type === 'string') out.push((await redis.getBuffer(key)) ?? Buffer.alloc(0));
        else if (type === 'hash') {
          for (const [field, value] of Object.entries(await redis.hgetallBuffer(key)))
            out.push(Buffer.from(field), value);
        } else if (type === 'list') out.push(...(await redis.lrangeBuffer(key, 0, -1)));
        else if (type === 'set') out.push(...(await redis.smembersBuffer(key)));
        else if (type === 'zset') out.push(...(await redis.zrangeBuffer(key, '0', '-1')));
        else if (type === 'stream') out.push(Buffer.from(JSON.stringify(await redis.xrange(key, '-', '+'))));
      }
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return Buffer.concat(out);
}
