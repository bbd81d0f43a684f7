// Where the proxy counts usage (DESIGN.md "Usage metering"): forwarded requests and their errors,
// refusals, and the tokens of each response's `usage` object, read by a UsageTap that watches the
// body's chunks go by on their way to the client (never holding or delaying one). Per response the
// reading hangs on the upstream response and the listeners are shared: no closures per request.
import type { IncomingMessage } from 'node:http';
import type { AuthTable, DeploymentEntry } from './auth-table.ts';
import type { KeyMemo } from './authorize.ts';
import { readCredentials } from './credentials.ts';
import type { UsageAggregator } from '../usage/aggregator.ts';
import { canTapBody, UsageTap } from '../usage/usage-tap.ts';

export interface UsageMeter {
  /** the upstream's headers arrived; its body is read for usage as it streams */
  responded(deployment: DeploymentEntry, keyId: string | null, statusCode: number, upstream: IncomingMessage): void;
  /** keygate answered 502 or 504 itself */
  failed(deployment: DeploymentEntry, keyId: string | null): void;
  /** forwarded, but the client left before the upstream answered */
  clientClosed(deployment: DeploymentEntry, keyId: string | null): void;
  /** a WebSocket upgrade forwarded to the upstream */
  upgraded(deployment: DeploymentEntry, keyId: string | null): void;
  /** a 401: counted for the key only when a known key of the deployment's project was presented */
  refused(deployment: DeploymentEntry, rawHeaders: readonly string[], memo: KeyMemo): void;
}

interface Reading {
  readonly tap: UsageTap;
  readonly deployment: DeploymentEntry;
  readonly keyId: string | null;
}

const READING = Symbol('keygate.usageReading');
type Tapped = IncomingMessage & { [READING]?: Reading };

export function createUsageMeter(aggregator: UsageAggregator, table: AuthTable): UsageMeter {
  function onData(this: Tapped, chunk: Buffer) {
    this[READING]!.tap.write(chunk);
  }

  // 'close' comes whether the body ended or was cut: whatever usage passed by is counted.
  function onClose(this: Tapped) {
    const { tap, deployment, keyId } = this[READING]!;
    if (tap.usage !== null) aggregator.tokens(deployment, keyId, tap.usage.promptTokens, tap.usage.completionTokens);
  }

  return {
    responded(deployment, keyId, statusCode, upstream) {
      aggregator.forwarded(deployment, keyId, statusCode >= 500);
      const headers = upstream.headers;
      if (!canTapBody(headers['content-type'], headers['content-encoding'])) return;
      (upstream as Tapped)[READING] = { tap: new UsageTap(), deployment, keyId };
      upstream.on('data', onData);
      upstream.once('close', onClose);
    },
    failed(deployment, keyId) {
      aggregator.forwarded(deployment, keyId, true);
    },
    clientClosed(deployment, keyId) {
      aggregator.forwarded(deployment, keyId, false);
    },
    upgraded(deployment, keyId) {
      aggregator.forwarded(deployment, keyId, false);
    },
    refused(deployment, rawHeaders, memo) {
      aggregator.rejected(deployment, refusedKeyId(table, deployment, rawHeaders, memo));
    },
  };
}

/** The key a refused request presented, when it is a known key of the deployment's own project
 *  (a key of another project is not this project's to count). authorizeRequest has just hashed it
 *  into the connection's memo. */
function refusedKeyId(table: AuthTable, deployment: DeploymentEntry, rawHeaders: readonly string[], memo: KeyMemo): string | null {
  const credentials = readCredentials(rawHeaders);
  if (credentials.kind !== 'key' || credentials.secret !== memo.secret || memo.hash === null) return null;
  const key = table.findKeyByHash(memo.hash);
  return key !== undefined && key.projectId === deployment.projectId ? key.id : null;
}
