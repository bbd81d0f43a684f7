// The proxy's in-memory picture of what it enforces: keys by hash, deployments by route, each
// deployment's linked key ids. Built from a Snapshot, kept current by applying ChangeEvents in
// revision order (ordering and gap detection are the feed's job). Request-time lookups are O(1)
// and touch nothing outside this process; memory is proportional to keys + deployments + links.
import type { ChangeEvent, DeploymentState, KeyState, Snapshot } from '../feed/events.ts';
import type { Limits } from '../ratelimit/limiter.ts';

export interface KeyEntry {
  readonly id: string;
  readonly projectId: string;
  /** for the access log; null when the event that carried the key predates names in events */
  readonly name: string | null;
  readonly hash: string;
  /** epoch ms; Infinity: never expires. Parsed once here so the hot path compares numbers. */
  readonly expiresAtMs: number;
  /** during a rotation overlap, the previous secret's hash (also indexed by keysByHash); null: none */
  readonly previousHash: string | null;
  /** epoch ms when the previous secret stops working (checked at request time); -Infinity: none */
  readonly previousExpiresAtMs: number;
  /** per-minute limits (docs/api.md, "Rate limits"); null: none */
  readonly rateLimit: Limits | null;
}

export interface DeploymentEntry {
  readonly id: string;
  readonly projectId: string;
  /** lowercase, as routes are matched */
  readonly projectSlug: string;
  /** lowercase, as routes are matched */
  readonly name: string;
  /** "<project-slug>/<deployment>": the metrics label and log field */
  readonly label: string;
  readonly upstreamUrl: string;
  /** parsed once; null when the stored URL does not parse (requests then get 502) */
  readonly upstream: URL | null;
  /** "http://host:port": what keep-alive pools are keyed by */
  readonly origin: string;
  readonly authEnabled: boolean;
  readonly keyIds: ReadonlySet<string>;
}

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
  private readonly keysById = new Map<string, KeyEntry>();
  private readonly keysByHash = new Map<string, KeyEntry>();
  private readonly deploymentsById = new Map<string, DeploymentEntry & { keyIds: Set<string> }>();
  /** project slug → deployment name → entry: two lookups, no string built per request */
  private readonly routes = new Map<string, Map<string, DeploymentEntry>>();
  private readonly originRefs = new Map<string, number>();
  private used = new Set<string>();
  private readonly retiredListeners = new Set<RetiredListener>();
  private accessListener: AccessListener | null = null;

  /** Replaces everything with the snapshot's picture. */
  load(snapshot: Snapshot): void {
    const previous = [...this.deploymentsById.values()];
    this.keysById.clear();
    this.keysByHash.clear();
    this.deploymentsById.clear();
    this.routes.clear();
    this.originRefs.clear();
    // Strings repeated across the snapshot's rows (project ids, upstream URLs) are kept once, and
    // the entries share one parsed URL per upstream: at a million keys the copies cost more than
    // everything else together. The cache lives for this load only.
    const strings = new Map<string, string>();
    const intern = (s: string) => {
      const known = strings.get(s);
      if (known !== undefined) return known;
      strings.set(s, s);
      return s;
    };
    const upstreams = new Map<string, Upstream>();
    for (const key of snapshot.apiKeys) this.upsertKey(key, intern);
    for (const deployment of snapshot.deployments) this.upsertDeployment(deployment, intern, upstreams);
    this.revision = snapshot.revision;
    for (const old of previous) {
      const now = this.deploymentsById.get(old.id);
      if (!now || now.label !== old.label || now.origin !== old.origin) this.retire(old);
    }
    this.accessChanged(ALL);
  }

  /** Applies one change; events at or below the current revision were already applied and are
   *  ignored, so a redelivered event is harmless. Returns whether the event was applied. */
  applyChange(event: ChangeEvent): boolean {
    if (event.revision <= this.revision) return false;
    const p = event.payload;
    if (p.apiKey) this.upsertKey(p.apiKey);
    if (p.deployment) this.upsertDeployment(p.deployment);
    if (p.deployments) for (const d of p.deployments) this.upsertDeployment(d);
    if (p.deleted && p.apiKeyId && !p.apiKey) this.removeKey(p.apiKeyId);
    if (p.deleted && p.deploymentId && !p.deployment) this.removeDeployment(p.deploymentId);
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
    return this.keysById.get(id);
  }

  findDeploymentById(id: string): DeploymentEntry | undefined {
    return this.deploymentsById.get(id);
  }

  /** Both arguments lowercase (the router lowercases them). */
  findDeployment(projectSlug: string, name: string): DeploymentEntry | undefined {
    return this.routes.get(projectSlug)?.get(name);
  }

  findKeyByHash(hash: string): KeyEntry | undefined {
    return this.keysByHash.get(hash);
  }

  /** Whether any deployment still forwards to this origin (its keep-alive pool is still needed). */
  usesOrigin(origin: string): boolean {
    return this.originRefs.has(origin);
  }

  get keyCount(): number {
    return this.keysById.size;
  }

  get deploymentCount(): number {
    return this.deploymentsById.size;
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
      apiKeys: [...this.keysById.values()]
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
      deployments: [...this.deploymentsById.values()]
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

  private upsertKey(state: KeyState, intern: (s: string) => string = same): void {
    const old = this.keysById.get(state.id);
    if (old) this.unindexKey(old);
    const expiresAtMs = state.expiresAt === null ? Infinity : Date.parse(state.expiresAt);
    // The previous secret works until its end, checked at request time (authorize.ts); a rotation
    // that ends the overlap at once sends no previous hash, so the old secret leaves the index here.
    const previousHash = state.previousHash ? lowercaseHex(state.previousHash) : null;
    const previousExpiresAtMs = previousHash === null || !state.previousExpiresAt ? -Infinity : Date.parse(state.previousExpiresAt);
    const entry: KeyEntry = {
      id: state.id,
      projectId: intern(state.projectId),
      name: state.name ?? null,
      hash: lowercaseHex(state.hash),
      // An unparseable date must not mean "never expires": treat it as expired.
      expiresAtMs: Number.isNaN(expiresAtMs) ? -Infinity : expiresAtMs,
      previousHash,
      previousExpiresAtMs: Number.isNaN(previousExpiresAtMs) ? -Infinity : previousExpiresAtMs,
      rateLimit: limitsOf(state),
    };
    this.keysById.set(entry.id, entry);
    this.keysByHash.set(entry.hash, entry);
    if (entry.previousHash !== null) this.keysByHash.set(entry.previousHash, entry);
  }

  /** Takes a key's hashes out of the lookup (only where they still point at this key). */
  private unindexKey(old: KeyEntry): void {
    if (this.keysByHash.get(old.hash) === old) this.keysByHash.delete(old.hash);
    if (old.previousHash !== null && this.keysByHash.get(old.previousHash) === old) this.keysByHash.delete(old.previousHash);
  }

  private removeKey(id: string): void {
    const old = this.keysById.get(id);
    if (!old) return;
    this.keysById.delete(id);
    this.unindexKey(old);
    // The hash is gone, so the key authorizes nowhere already; this only frees the links.
    for (const d of this.deploymentsById.values()) d.keyIds.delete(id);
  }

  private upsertDeployment(state: DeploymentState, intern: (s: string) => string = same, upstreams?: Map<string, Upstream>): void {
    const projectSlug = intern(state.projectSlug.toLowerCase());
    const name = state.name.toLowerCase();
    let upstream = upstreams?.get(state.upstreamUrl);
    if (upstream === undefined) {
      const url = parseUpstream(state.upstreamUrl);
      upstream = { upstreamUrl: state.upstreamUrl, url, origin: url?.origin ?? '' };
      upstreams?.set(state.upstreamUrl, upstream);
    }
    // The linked ids as the key entries hold them (one copy of each id string), else as sent.
    const keyIds = new Set<string>();
    for (const id of state.apiKeyIds) keyIds.add(this.keysById.get(id)?.id ?? id);
    const entry = {
      id: state.id,
      projectId: intern(state.projectId),
      projectSlug,
      name,
      label: `${projectSlug}/${name}`,
      upstreamUrl: upstream.upstreamUrl,
      upstream: upstream.url,
      origin: upstream.origin,
      authEnabled: state.authEnabled,
      keyIds,
    };
    const old = this.deploymentsById.get(state.id);
    if (old) this.unindex(old);
    this.deploymentsById.set(entry.id, entry);
    let byName = this.routes.get(projectSlug);
    if (!byName) this.routes.set(projectSlug, (byName = new Map()));
    byName.set(name, entry);
    this.originRefs.set(entry.origin, (this.originRefs.get(entry.origin) ?? 0) + 1);
    if (old && (old.label !== entry.label || old.origin !== entry.origin)) this.retire(old);
  }

  private removeDeployment(id: string): void {
    const old = this.deploymentsById.get(id);
    if (!old) return;
    this.unindex(old);
    this.deploymentsById.delete(id);
    this.retire(old);
  }

  private unindex(d: DeploymentEntry): void {
    const byName = this.routes.get(d.projectSlug);
    if (byName?.get(d.name)?.id === d.id) {
      byName.delete(d.name);
      if (byName.size === 0) this.routes.delete(d.projectSlug);
    }
    const refs = (this.originRefs.get(d.origin) ?? 1) - 1;
    if (refs > 0) this.originRefs.set(d.origin, refs);
    else this.originRefs.delete(d.origin);
  }

  private retire(d: DeploymentEntry): void {
    for (const listener of this.retiredListeners) listener(d);
  }
}

/** A deployment's upstream, parsed once and shared by the entries with the same URL. */
interface Upstream {
  readonly upstreamUrl: string;
  readonly url: URL | null;
  readonly origin: string;
}

const same = (s: string) => s;
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

function limitsOf(state: KeyState): Limits | null {
  const r = state.rateLimit;
  if (!r || (r.requestsPerMinute == null && r.tokensPerMinute == null)) return null;
  return { requestsPerMinute: r.requestsPerMinute ?? null, tokensPerMinute: r.tokensPerMinute ?? null };
}
const UPPERCASE_HEX = /[A-F]/;
// toLowerCase copies even a lowercase string: a million copies at a snapshot load.
const lowercaseHex = (hash: string) => (UPPERCASE_HEX.test(hash) ? hash.toLowerCase() : hash);

function parseUpstream(url: string): URL | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : null;
  } catch {
    return null;
  }
}
