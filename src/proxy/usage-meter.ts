// Where the proxy counts usage (docs/api.md, "Usage"): forwarded requests and their errors,
// refusals, and the tokens of each response's `usage` object, read by a UsageTap that watches the
// body's chunks go by on their way to the client (never holding or delaying one). Per response the
// reading hangs on the upstream response and the listeners are shared: no closures per request.
import type { IncomingMessage } from 'node:http';
import type { DeploymentEntry, KeyEntry } from './auth-table.ts';
import type { UsageAggregator } from '../usage/aggregator.ts';
import { canTapBody, UsageTap } from '../usage/usage-tap.ts';

export interface UsageMeter {
  /** the upstream's headers arrived; its body is read for usage as it streams, by the tap returned
   *  (null: a body that cannot be read, e.g. compressed) */
  responded(deployment: DeploymentEntry, keyId: string | null, statusCode: number, upstream: IncomingMessage): UsageTap | null;
  /** keygate answered 502 or 504 itself */
  failed(deployment: DeploymentEntry, keyId: string | null): void;
  /** forwarded, but the client left before the upstream answered */
  clientClosed(deployment: DeploymentEntry, keyId: string | null): void;
  /** a WebSocket upgrade forwarded to the upstream */
  upgraded(deployment: DeploymentEntry, keyId: string | null): void;
  /** a 401, with the known key presented if any (authorize.ts): counted for the key only when it is
   *  one of the deployment's project (another project's key is not this project's to count) */
  refused(deployment: DeploymentEntry, key: KeyEntry | null): void;
  /** a 429: the key's rate limit was reached */
  rateLimited(deployment: DeploymentEntry, keyId: string): void;
}

interface Reading {
  readonly tap: UsageTap;
  readonly deployment: DeploymentEntry;
  readonly keyId: string | null;
}

const READING = Symbol('keygate.usageReading');
type Tapped = IncomingMessage & { [READING]?: Reading };

/** `aggregator` null: metering off, only `onTokens` (rate limits) reads the responses' usage. */
export function createUsageMeter(aggregator: UsageAggregator | null, onTokens?: (keyId: string, tokens: number) => void): UsageMeter {
  function onData(this: Tapped, chunk: Buffer) {
    this[READING]!.tap.write(chunk);
  }

  // 'close' comes whether the body ended or was cut: whatever usage passed by is counted.
  function onClose(this: Tapped) {
    const { tap, deployment, keyId } = this[READING]!;
    if (tap.usage === null) return;
    aggregator?.tokens(deployment, keyId, tap.usage.promptTokens, tap.usage.completionTokens);
    if (onTokens && keyId !== null) onTokens(keyId, tap.usage.promptTokens + tap.usage.completionTokens);
  }

  return {
    responded(deployment, keyId, statusCode, upstream) {
      aggregator?.forwarded(deployment, keyId, statusCode >= 500);
      const headers = upstream.headers;
      if (!canTapBody(headers['content-type'], headers['content-encoding'])) return null;
      const tap = new UsageTap();
      (upstream as Tapped)[READING] = { tap, deployment, keyId };
      upstream.on('data', onData);
      upstream.on('close', onClose); // emitted once; `once` would wrap the listener for every response
      return tap;
    },
    failed(deployment, keyId) {
      aggregator?.forwarded(deployment, keyId, true);
    },
    clientClosed(deployment, keyId) {
      aggregator?.forwarded(deployment, keyId, false);
    },
    upgraded(deployment, keyId) {
      aggregator?.forwarded(deployment, keyId, false);
    },
    refused(deployment, key) {
      aggregator?.rejected(deployment, key !== null && key.projectId === deployment.projectId ? key.id : null);
    },
    rateLimited(deployment, keyId) {
      aggregator?.rateLimited(deployment, keyId);
    },
  };
}
