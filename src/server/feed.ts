// The change feed of a process: Redis when REDIS_URL is set (replicas), otherwise in-process
// (`keygate start` alone).
import type { Config } from '../config/config.ts';
import type { Feed } from '../feed/feed.ts';
import { createLocalFeed } from '../feed/local-feed.ts';
import { createRedisFeed } from '../feed/redis-feed.ts';
import type { Logger } from './logger.ts';
import type { RunMode } from './run-modes.ts';

export function openFeed(mode: RunMode, config: Config, log: Logger): Feed {
  return config.redisUrl
    ? createRedisFeed({ url: config.redisUrl, prefix: config.redisPrefix, log, connectionName: `keygate-${mode}` })
    : createLocalFeed();
}
