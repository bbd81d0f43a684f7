// The proxy's in-memory picture of what it enforces: keys by hash, deployments by route, each
// deployment's linked key ids. Built from a snapshot (whole, or streamed in pages so a million keys
// are never a million rows in memory), kept current by applying ChangeEvents in revision order
// (ordering and gap detection are the feed's job). Request-time lookups are O(1) (the link check a
// binary search in the deployment's small set) and touch nothing outside this process; the layout
// that keeps memory proportional to keys + deployments + links, and small, is table-index.ts.
import type { ChangeEvent, DeploymentState, Snapshot } from '../feed/events.ts';
import type { Limits } from '../ratelimit/limiter.ts';
import type { Digest, KeyEntry } from './key-store.ts';
import { type DeploymentEntry, keyOfState, putDeploymentState, TableBuilder, TableIndex } from './table-index.ts';

export type { KeyEntry } from './key-store.ts';
export type { DeploymentEntry } from './table-index.ts';
export { TableBuilder } from './table-index.ts';

/** Told when a deployment's route or upstream leaves the table, so caches keyed by them can go. */
export type RetiredListener = (deployment: DeploymentEntry) => void;

/**
 * What a change may have taken away from requests already admitted (docs/architecture.md,
 * "Cutting requests in flight"): a key whose entry changed or went (deleted, expiry, secret
 * rotated), a deployment whose linked set, authentication or existence changed, or everything (a
 * snapshot reload). `unlinkReason` says how to count a key no longer in a deployment's set.
 * The listener re-checks the requests it holds against the table, which already shows the change.
 */
export type AccessChange =
  | { readonly scope: 'key'; readonly keyId: string }
  | { readonly scope: 'deployment'; readonly deploymentId: string; readonly unlinkReason: 'unlinked' | 'auth_changed' }
  | { readonly scope: 'all' };
export type AccessListener = (changes: readonly AccessChange[]) => void;

export class AuthTable {
  /** revision of the last snapshot or change applied; 0 before the first snapshot */
  revision = 0;
  private index = new TableIndex();
  private used = new Set<string>();
  private readonly retiredListeners = new Set<RetiredListener>();
  private accessListener: AccessListener | null = null;

  /** Replaces everything with the snapshot's picture. */
  load(snapshot: Snapshot): void {
    const builder = new TableBuilder();
    for (const key of snapshot.apiKeys) builder.key(key);
    for (const deployment of snapshot.deployments) builder.deployment(deployment);
    this.install(builder, snapshot.revision);
  }

  /** Replaces everything with a snapshot built page by page (src/feed/change-log.ts
   *  streamSnapshot); the table answers from its previous picture until the build is complete. */
  install(builder: TableBuilder, revision: number): void {
    const previous = this.index;
    this.index = builder.finish();
    this.revision = revision;
    for (const old of previous.deploymentsById.values()) {
      const now = this.index.deploymentsById.get(old.id);
      if (!now || now.label !== old.label || now.origin !== old.origin) this.retire(old);
    }
    this.accessChanged(ALL);
  }

  /** Applies one change; events at or below the current revision were already applied and are
   *  ignored, so a redelivered event is harmless. Returns whether the event was applied. */
  applyChange(event: ChangeEvent): boolean {
    if (event.revision <= this.revision) return false;
    const p = event.payload;
    if (p.apiKey) this.index.keys.put(keyOfState(p.apiKey));
    if (p.deployment) this.upsertDeployment(p.deployment);
    if (p.deployments) for (const d of p.deployments) this.upsertDeployment(d);
    if (p.deleted && p.apiKeyId && !p.apiKey) this.index.removeKey(p.apiKeyId);
    if (p.deleted && p.deploymentId && !p.deployment) {
      const old = this.index.removeDeployment(p.deploymentId);
      if (old !== undefined) this.retire(old);
    }
    this.revision = event.revision;
    if (this.accessListener !== null) this.accessChanged(accessChangesOf(event));
    return true;
  }

  /** The one listener told what each applied change may have taken away (the proxy's in-flight
   *  registry); it runs inside applyChange, so whatever it does is done before the change is acked. */
  onAccessChanged(listener: AccessListener | null): void {
    this.accessListener = listener;
  }

  findKeyById(id: string): KeyEntry | undefined {
    return this.index.keys.byId(id);
  }

  /** The key's rate limit (null: none, or no such key), without making its entry. */
  rateLimitOf(keyId: string): Limits | null {
    return this.index.keys.rateLimitOf(keyId);
  }

  findDeploymentById(id: string): DeploymentEntry | undefined {
    return this.index.deploymentsById.get(id);
  }

  /** Both arguments lowercase (the router lowercases them). */
  findDeployment(projectSlug: string, name: string): DeploymentEntry | undefined {
    return this.index.routes.get(projectSlug)?.get(name);
  }

  /** By the lowercase hex SHA-256 of its current or previous secret; `digest` (the same hash as
   *  words, parse-hex in key-store.ts) saves parsing it when the caller keeps it. */
  findKeyByHash(hash: string, digest?: Digest): KeyEntry | undefined {
    return this.index.keys.byHash(hash, digest);
  }

  /** Whether any deployment still forwards to this origin (its keep-alive pool is still needed). */
  usesOrigin(origin: string): boolean {
    return this.index.originRefs.has(origin);
  }

  get keyCount(): number {
    return this.index.keys.size;
  }

  get deploymentCount(): number {
    return this.index.deploymentsById.size;
  }

  /** Notes a key that authorized a request; bounded by the number of keys. */
  recordUse(keyId: string): void {
    this.used.add(keyId);
  }

  /** Key ids used since the previous drain, for the batched lastUsedAt write. */
  drainUsed(): Set<string> {
    const used = this.used;
    this.used = new Set();
    return used;
  }

  /** The table as a Snapshot in a canonical order: to compare it with the database's. */
  toSnapshot(): Snapshot {
    const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    return {
      revision: this.revision,
      apiKeys: [...this.index.keys.entries()]
        .map((k) => ({
          id: k.id,
          projectId: k.projectId,
          ...(k.name === null ? {} : { name: k.name }),
          hash: k.hash,
          expiresAt: Number.isFinite(k.expiresAtMs) ? new Date(k.expiresAtMs).toISOString() : null,
          previousHash: k.previousHash,
          previousExpiresAt: k.previousHash !== null && Number.isFinite(k.previousExpiresAtMs) ? new Date(k.previousExpiresAtMs).toISOString() : null,
          ...(k.rateLimit === null ? {} : { rateLimit: { ...k.rateLimit } }),
        }))
        .sort(byId),
      deployments: [...this.index.deploymentsById.values()]
        .map((d) => ({
          id: d.id,
          projectId: d.projectId,
          projectSlug: d.projectSlug,
          name: d.name,
          upstreamUrl: d.upstreamUrl,
          authEnabled: d.authEnabled,
          apiKeyIds: [...d.keyIds].sort(),
        }))
        .sort(byId),
    };
  }

  onRetired(listener: RetiredListener): () => void {
    this.retiredListeners.add(listener);
    return () => this.retiredListeners.delete(listener);
  }

  private accessChanged(changes: readonly AccessChange[]): void {
    if (this.accessListener === null || changes.length === 0) return;
    try {
      this.accessListener(changes);
    } catch {
      // The table is applied whatever a listener does; a failed cut must not make it reload.
    }
  }

  private upsertDeployment(state: DeploymentState): void {
    const { entry, old } = putDeploymentState(this.index, state);
    if (old && (old.label !== entry.label || old.origin !== entry.origin)) this.retire(old);
  }

  private retire(d: DeploymentEntry): void {
    for (const listener of this.retiredListeners) listener(d);
  }
}

const ALL: readonly AccessChange[] = [{ scope: 'all' }];

/** The keys and deployments one change touched: where requests in flight may have lost access. */
function accessChangesOf(event: ChangeEvent): AccessChange[] {
  const p = event.payload;
  const changes: AccessChange[] = [];
  const unlinkReason = event.type === 'DEPLOYMENT_AUTH_CHANGED' ? 'auth_changed' : 'unlinked';
  const keyId = p.apiKey?.id ?? p.apiKeyId;
  if (keyId !== undefined) changes.push({ scope: 'key', keyId });
  const deploymentId = p.deployment?.id ?? p.deploymentId;
  if (deploymentId !== undefined) changes.push({ scope: 'deployment', deploymentId, unlinkReason });
  if (p.deployments) for (const d of p.deployments) changes.push({ scope: 'deployment', deploymentId: d.id, unlinkReason });
  return changes;
}
