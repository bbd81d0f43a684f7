// What a composition root has started, stopped in reverse order. A failure to stop one part is
// logged and the rest still stop.
import type { Logger } from './logger.ts';

export interface Stops {
  /** Remembers how to stop what was just started. */
  add(stop: () => Promise<void>): void;
  /** Stops everything added, last first. */
  stopAll(): Promise<void>;
  /** Runs `start`; when it throws, stops what it had started before rethrowing. */
  guard<T>(start: () => Promise<T>): Promise<T>;
}

export function createStops(log: Logger): Stops {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => log.warn({ err: error }, 'error while stopping'));
  };
  return {
    add: (stop) => void stops.push(stop),
    stopAll,
    async guard(start) {
      try {
        return await start();
      } catch (error) {
        await stopAll();
        throw error;
      }
    },
  };
}
