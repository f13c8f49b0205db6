/**
 * Redis for BullMQ, from REDIS_URL: a single node; with REDIS_SENTINELS, the master of a
 * Sentinel group (REDIS_URL then supplies the password and database); with REDIS_CLUSTER,
 * a Cluster that REDIS_URL's node belongs to.
 */
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Environment } from '../config/environment';

type RedisEnv = Pick<
  Environment,
  'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_CLUSTER'
>;

function fromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db ? Number(db) : 0,
    tls: u.protocol === 'rediss:' ? { servername: u.hostname } : undefined,
  };
}

/**
 * Connection settings. `blocking` is for workers, whose commands must wait for Redis to
 * come back; producers (Intake) fail fast instead, and recovery queues their messages later.
 */
export function redisConnection(env: RedisEnv, blocking: boolean): RedisOptions | Cluster {
  const base = fromUrl(env.REDIS_URL);
  const behaviour: RedisOptions = blocking
    ? { maxRetriesPerRequest: null }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 };
  if (env.REDIS_CLUSTER) {
    const options: ClusterOptions = {
      redisOptions: {
        username: base.username,
        password: base.password,
        tls: base.tls,
        ...behaviour,
      },
      enableOfflineQueue: !blocking ? false : true,
    };
    return new Cluster([{ host: base.host, port: base.port }], options);
  }
  if (env.REDIS_SENTINELS) {
    const sentinels = env.REDIS_SENTINELS.split(',').map((hp) => {
      const [host, port] = hp.split(':');
      return { host, port: Number(port) };
    });
    return {
      sentinels,
      name: env.REDIS_SENTINEL_NAME,
      username: base.username,
      password: base.password,
      db: base.db,
      ...behaviour,
    };
  }
  return { ...base, ...behaviour };
}
