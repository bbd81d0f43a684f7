// The auth table's entries and the maps that find them (docs/architecture.md, "The auth table in
// memory"). At a million keys the table is most of a proxy's memory, so nothing is held twice:
// keys live in columns (key-store.ts), strings repeated across entries (project ids and slugs,
// upstream URLs) are one string each, and a deployment's linked set is a sorted array of the key
// store's own id strings. TableBuilder makes a whole index from a snapshot, page by page; the
// AuthTable then keeps it current one change at a time through the same put/remove functions.
import type { DeploymentState, KeyState } from '../feed/events.ts';
import type { KeySnapshotRow } from '../db/statements/snapshot.ts';
import type { Limits } from '../ratelimit/limiter.ts';
import { type KeyFields, KeyStore } from './key-store.ts';
import { type KeyIdSet, LinkedKeys } from './linked-keys.ts';
import { EMPTY, sameText, SlotIndex, stringHash } from './slot-index.ts';

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
  readonly keyIds: KeyIdSet;
}

export class Deployment implements DeploymentEntry {
  constructor(
    readonly id: string,
    readonly projectId: string,
    readonly projectSlug: string,
    readonly name: string,
    readonly label: string,
    readonly upstreamUrl: string,
    readonly upstream: URL | null,
    readonly origin: string,
    readonly authEnabled: boolean,
    readonly keyIds: LinkedKeys,
  ) {}
}

/** A deployment's upstream, parsed once and shared by the entries with the same URL. */
interface Upstream {
  readonly upstreamUrl: string;
  readonly url: URL | null;
  readonly origin: string;
}

/** Keeps one copy of strings repeated across entries, and one parsed URL per upstream. */
export class Interner {
  private readonly strings = new Map<string, string>();
  private readonly upstreams = new Map<string, Upstream>();

  string(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    this.strings.set(s, s);
    return s;
  }

  upstream(upstreamUrl: string): Upstream {
    let upstream = this.upstreams.get(upstreamUrl);
    if (upstream === undefined) {
      const url = parseUpstream(upstreamUrl);
      upstream = { upstreamUrl, url, origin: url?.origin ?? '' };
      this.upstreams.set(upstreamUrl, upstream);
    }
    return upstream;
  }
}

/** For one change: nothing is shared, so no later change can alter what another entry holds. */
const FRESH: Pick<Interner, 'string' | 'upstream'> = {
  string: (s) => s,
  upstream: (upstreamUrl) => {
    const url = parseUpstream(upstreamUrl);
    return { upstreamUrl, url, origin: url?.origin ?? '' };
  },
};

// ---- entries from the feed's states and from the snapshot's rows ---------------------------------

// An unparseable date must not mean "never expires" (nor "works forever" for a previous secret).
const validMs = (ms: number) => (Number.isNaN(ms) ? -Infinity : ms);

/** `previousHash` falsy: none. The previous secret works until its end, checked at request time
 *  (authorize.ts); a rotation that ends the overlap at once sends none, so it leaves the index. */
function previousOf(previousHash: string | null | undefined, expiresAtMs: number): KeyFields['previous'] {
  return previousHash ? { hash: previousHash, expiresAtMs: validMs(expiresAtMs) } : null;
}

function limitsOf(requestsPerMinute: number | null | undefined, tokensPerMinute: number | null | undefined): Limits | null {
  if (requestsPerMinute == null && tokensPerMinute == null) return null;
  return { requestsPerMinute: requestsPerMinute ?? null, tokensPerMinute: tokensPerMinute ?? null };
}

export function keyOfState(state: KeyState, intern: Pick<Interner, 'string'> = FRESH): KeyFields {
  return {
    id: state.id,
    projectId: intern.string(state.projectId),
    name: state.name ?? null,
    hash: state.hash,
    expiresAtMs: state.expiresAt === null ? Infinity : validMs(Date.parse(state.expiresAt)),
    previous: previousOf(state.previousHash, state.previousExpiresAt ? Date.parse(state.previousExpiresAt) : -Infinity),
    rateLimit: limitsOf(state.rateLimit?.requestsPerMinute, state.rateLimit?.tokensPerMinute),
  };
}

function keyOfRow(row: KeySnapshotRow, projectIds: readonly string[]): KeyFields {
  return {
    id: row.id,
    projectId: projectIds[row.project]!,
    name: row.name,
    hash: row.hash,
    expiresAtMs: row.expiresAtMs ?? Infinity,
    previous: previousOf(row.previousHash, row.previousExpiresAtMs ?? -Infinity),
    rateLimit: limitsOf(row.rateLimitRequests, row.rateLimitTokens),
  };
}

type DeploymentFields = Omit<DeploymentState, 'apiKeyIds'>;
interface LinkRow {
  deploymentId: string;
  apiKeyId: string;
}

function deploymentOf(fields: DeploymentFields, keyIds: LinkedKeys, intern: Pick<Interner, 'string' | 'upstream'>): Deployment {
  const projectSlug = intern.string(fields.projectSlug.toLowerCase());
  const name = fields.name.toLowerCase();
  const upstream = intern.upstream(fields.upstreamUrl);
  return new Deployment(
    fields.id,
    intern.string(fields.projectId),
    projectSlug,
    name,
    `${projectSlug}/${name}`,
    upstream.upstreamUrl,
    upstream.url,
    upstream.origin,
    fields.authEnabled,
    keyIds,
  );
}

// ---- the index ----------------------------------------------------------------------------------

export class TableIndex {
  readonly keys = new KeyStore();
  readonly deploymentsById = new Map<string, Deployment>();
  /** project slug → deployment name → entry: two lookups, no string built per request */
  readonly routes = new Map<string, Map<string, Deployment>>();
  readonly originRefs = new Map<string, number>();

  /** Takes a key out of the lookups and out of every linked set. */
  removeKey(id: string): void {
    if (!this.keys.remove(id)) return;
    // The hash is gone, so the key authorizes nowhere already; this only frees the links.
    for (const d of this.deploymentsById.values()) d.keyIds.delete(id);
  }

  /** A deployment's linked ids as the key entries hold them (one copy of each id string), else as sent. */
  linkedKeys(ids: readonly string[]): LinkedKeys {
    return new LinkedKeys(ids.map((id) => this.keys.idOf(id) ?? id));
  }

  /** Puts a deployment in (replacing the one with its id); returns the one it replaced. */
  putDeployment(entry: Deployment): Deployment | undefined {
    const old = this.deploymentsById.get(entry.id);
    if (old !== undefined) this.unindexDeployment(old);
    this.deploymentsById.set(entry.id, entry);
    let byName = this.routes.get(entry.projectSlug);
    if (byName === undefined) this.routes.set(entry.projectSlug, (byName = new Map()));
    byName.set(entry.name, entry);
    this.originRefs.set(entry.origin, (this.originRefs.get(entry.origin) ?? 0) + 1);
    return old;
  }

  removeDeployment(id: string): Deployment | undefined {
    const old = this.deploymentsById.get(id);
    if (old === undefined) return undefined;
    this.unindexDeployment(old);
    this.deploymentsById.delete(id);
    return old;
  }

  private unindexDeployment(d: Deployment): void {
    const byName = this.routes.get(d.projectSlug);
    if (byName?.get(d.name)?.id === d.id) {
      byName.delete(d.name);
      if (byName.size === 0) this.routes.delete(d.projectSlug);
    }
    const refs = (this.originRefs.get(d.origin) ?? 1) - 1;
    if (refs > 0) this.originRefs.set(d.origin, refs);
    else this.originRefs.delete(d.origin);
  }
}

/** Puts a change's deployment state in `index`; returns the entry it replaced. */
export function putDeploymentState(index: TableIndex, state: DeploymentState): { entry: Deployment; old: Deployment | undefined } {
  const entry = deploymentOf(state, index.linkedKeys(state.apiKeyIds), FRESH);
  return { entry, old: index.putDeployment(entry) };
}

/**
 * A fresh index built from a snapshot, either whole (keys, then deployments with their linked
 * sets) or in pages (key rows, deployment rows, then links). Keys come first so a link holds the
 * key store's own id string; a deployment's linked set is made once, when the build finishes.
 * Links may come as text (linkText): the 72 characters of each (deployment id, key id) pair are
 * looked up where they stand, with no string or row object made per link.
 */
export class TableBuilder {
  private readonly index = new TableIndex();
  private readonly intern = new Interner();
  private projects: readonly string[] = [];
  /** deployments read so far, with their links as they arrive; found by id through draftIndex */
  private readonly drafts: { fields: DeploymentFields; linked: string[] }[] = [];
  /** each draft's id, and its hash, side by side: what a link's lookup reads */
  private readonly draftIds: string[] = [];
  private readonly draftHashes: number[] = [];
  private readonly draftIndex = new SlotIndex((slot) => this.draftHashes[slot]!);

  key(state: KeyState): void {
    this.index.keys.put(keyOfState(state, this.intern));
  }

  projectIds(ids: string[]): void {
    this.projects = ids.map((id) => this.intern.string(id));
  }

  /** Keys from the database: ids unique (its primary key), projects counted in projectIds. */
  keyRows(rows: readonly KeySnapshotRow[]): void {
    const keys = this.index.keys;
    for (const row of rows) keys.put(keyOfRow(row, this.projects), true);
  }

  deployment(state: DeploymentState): void {
    this.deploymentRows([state]);
    this.linkRows(state.apiKeyIds.map((apiKeyId) => ({ deploymentId: state.id, apiKeyId })));
  }

  /** A deployment read twice keeps the last reading, with no links. */
  deploymentRows(rows: readonly DeploymentFields[]): void {
    for (const fields of rows) {
      const draft = { fields, linked: [] };
      const slot = this.draftIn(fields.id, 0, fields.id.length);
      if (slot >= 0) {
        this.drafts[slot] = draft;
        continue;
      }
      this.drafts.push(draft);
      this.draftIds.push(fields.id);
      this.draftHashes.push(stringHash(fields.id) | 0);
      this.draftIndex.insert(this.drafts.length - 1);
    }
  }

  /** Links of deployments not read (none, in a consistent read) are dropped. */
  private linkRows(rows: readonly LinkRow[]): void {
    const keys = this.index.keys;
    for (const { deploymentId, apiKeyId } of rows) {
      const slot = this.draftIn(deploymentId, 0, deploymentId.length);
      if (slot >= 0) this.drafts[slot]!.linked.push(keys.idOf(apiKeyId) ?? apiKeyId);
    }
  }

  /** Links as text: each LINK_TEXT_LENGTH characters a deployment's id then a key's (uuid text). */
  linkText(links: string): void {
    const keys = this.index.keys;
    for (let at = 0; at + LINK_TEXT_LENGTH <= links.length; at += LINK_TEXT_LENGTH) {
      const slot = this.draftIn(links, at, at + UUID_LENGTH);
      if (slot < 0) continue;
      // A key the snapshot lacks (none, in a consistent read) is linked by a copy of its id.
      const id = keys.idIn(links, at + UUID_LENGTH, at + LINK_TEXT_LENGTH) ?? copyOf(links.slice(at + UUID_LENGTH, at + LINK_TEXT_LENGTH));
      this.drafts[slot]!.linked.push(id);
    }
  }

  finish(): TableIndex {
    for (const { fields, linked } of this.drafts) this.index.putDeployment(deploymentOf(fields, new LinkedKeys(linked), this.intern));
    this.drafts.length = 0;
    return this.index;
  }

  private draftIn(s: string, start: number, end: number): number {
    const h = stringHash(s, start, end) | 0;
    const cells = this.draftIndex.cells;
    const mask = cells.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const cell = cells[i]!;
      if (cell === EMPTY) return -1;
      if (this.draftHashes[cell - 1] === h && sameText(this.draftIds[cell - 1]!, s, start, end)) return cell - 1;
    }
  }
}

const UUID_LENGTH = 36;
/** One link in a snapshot's link text (src/db/statements/snapshot.ts eachLinkText). */
const LINK_TEXT_LENGTH = 2 * UUID_LENGTH;

/** A string of its own (a slice would keep the whole page of text alive). */
const copyOf = (s: string) => Buffer.from(s, 'latin1').toString('latin1');

function parseUpstream(url: string): URL | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : null;
  } catch {
    return null;
  }
}
