// Where the proxy counts usage (docs/api.md, "Usage"): forwarded requests and their errors,
// refusals, and the tokens of each response's `usage` object, read by a UsageTap that the
// forwarder hands each chunk of the body as it relays it to the client (never holding or delaying
// one). Per response one object: the tap, which also knows whom to count the tokens for.
import type { IncomingMessage } from 'node:http';
import type { DeploymentEntry, KeyEntry } from './auth-table.ts';
import type { BodyReader } from './flight.ts';
import type { UsageAggregator } from '../usage/aggregator.ts';
import { canTapBody, type TokenCounts, UsageTap } from '../usage/usage-tap.ts';

export interface UsageMeter {
  /** the upstream's headers arrived; its body is read for usage as it is relayed, by the reader
   *  returned (null: a body that cannot be read, e.g. compressed) */
  responded(deployment: DeploymentEntry, keyId: string | null, statusCode: number, upstream: IncomingMessage): MeteredBody | null;
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

type TokensSink = (deployment: DeploymentEntry, keyId: string | null, usage: TokenCounts) => void;

/** One response's body as metering reads it: its tokens go to the sink when the response closes
 *  (ended or cut: whatever usage passed by is counted). */
export class MeteredBody extends UsageTap implements BodyReader {
  constructor(
    private readonly sink: TokensSink,
    private readonly deployment: DeploymentEntry,
    private readonly keyId: string | null,
  ) {
    super();
  }

  chunk(data: Buffer): void {
    this.write(data);
  }

  closed(): void {
    if (this.usage !== null) this.sink(this.deployment, this.keyId, this.usage);
  }
}

/** `aggregator` null: metering off, only `onTokens` (rate limits) reads the responses' usage. */
export function createUsageMeter(aggregator: UsageAggregator | null, onTokens?: (keyId: string, tokens: number) => void): UsageMeter {
  const sink: TokensSink = (deployment, keyId, usage) => {
    aggregator?.tokens(deployment, keyId, usage.promptTokens, usage.completionTokens);
    if (onTokens && keyId !== null) onTokens(keyId, usage.promptTokens + usage.completionTokens);
  };

  return {
    responded(deployment, keyId, statusCode, upstream) {
      aggregator?.forwarded(deployment, keyId, statusCode >= 500);
      const headers = upstream.headers;
      if (!canTapBody(headers['content-type'], headers['content-encoding'])) return null;
      return new MeteredBody(sink, deployment, keyId);
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
