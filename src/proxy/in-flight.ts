// The proxy's requests in flight that a key admitted (docs/architecture.md, "Cutting requests in
// flight"), indexed key id → deployment id → requests, so the requests of one key, or of one key on
// one deployment, are found without looking at the others. A request is added when it is forwarded
// and removed when its response ends or is cut: a few map operations, nothing per byte.
//
// When the auth table applies a change (AuthTable.onAccessChanged) the requests of the keys and
// deployments it touched are checked again against the table, with the rule a new request would
// meet; those it would now refuse are ended for their clients, before the change is acked. What is
// left of them upstream (the upstream request and its connection) is released right after, in one
// batch once the ack is on its way: no byte of theirs reaches a client any more, and the last
// client of a cut waits for no upstream teardown. Times a change cannot announce — a key's
// expiresAt, the end of a rotation overlap — are this registry's own timers, one per key with
// requests in flight.
//
// A key whose last request ended keeps its record (maps, timer) while it is idle, up to MAX_IDLE
// such keys: a key that sends one request at a time would otherwise build and drop them, and arm
// and clear its timer, for every request. A change to the key, or a reload, drops its idle record.
import type { AccessChange, AuthTable, KeyEntry } from './auth-table.ts';

/** Why requests in flight were cut (the `reason` of keygate_proxy_requests_cut_total). */
export const CUT_REASONS = ['unlinked', 'deleted', 'expired', 'rotated_out', 'deployment_deleted', 'auth_changed'] as const;
export type CutReason = (typeof CUT_REASONS)[number];

/** A request admitted with a key, as the registry holds it. */
export interface Revocable {
  readonly keyId: string;
  readonly deploymentId: string;
  /** the hash of the secret it was admitted with: the key's current one, or its previous one during an overlap */
  readonly admittedHash: string;
  /** ends the request for its client (the forwarder's business: a last SSE event, an abort, or a
   *  401); nothing of the upstream's reaches the client afterwards */
  revoke(): void;
  /** closes what is left of the request upstream; called after revoke(), once the change's ack is
   *  on its way (absent: revoke() left nothing) */
  release?(): void;
}

interface KeyFlights {
  /** the sets of the deployments the key has had requests on since its record was made (empty
   *  ones are kept for the next request) */
  readonly byDeployment: Map<string, Set<Revocable>>;
  /** requests held; 0: an idle record */
  size: number;
  /** the next deadline's check; an idle key's may still be armed (it then finds nothing to do) */
  timer: NodeJS.Timeout | null;
  /** when the key's requests were last checked: deadlines up to it have been dealt with */
  checkedAt: number;
}

// setTimeout's longest delay; a later deadline is looked at again then.
const MAX_DELAY_MS = 2_147_483_647;
// A request is admitted and then added in the same turn of the event loop, but the clock moves
// between the two: a deadline that passed in that gap (or one this long before it) is still checked.
const ADMISSION_SLACK_MS = 1_000;
/** idle keys whose records are kept for their next request */
const MAX_IDLE = 4_096;

export class InFlightRegistry {
  private readonly byKey = new Map<string, KeyFlights>();
  /** records in byKey with no request (size 0) */
  private idle = 0;
  private readonly table: AuthTable;
  private readonly onCut: (reason: CutReason, count: number) => void;
  private readonly now: () => number;
  /** requests cut whose upstream side is released next (releaseCut) */
  private unreleased: Revocable[] = [];

  constructor(deps: { table: AuthTable; onCut?: (reason: CutReason, count: number) => void; now?: () => number }) {
    this.table = deps.table;
    this.onCut = deps.onCut ?? (() => {});
    this.now = deps.now ?? Date.now;
  }

  /** Starts following the table's changes (one registry per table). */
  attach(): () => void {
    this.table.onAccessChanged((changes) => this.recheck(changes));
    return () => this.table.onAccessChanged(null);
  }

  /** Requests held now. */
  get size(): number {
    let n = 0;
    for (const k of this.byKey.values()) n += k.size;
    return n;
  }

  add(flight: Revocable): void {
    let k = this.byKey.get(flight.keyId);
    if (k === undefined) {
      k = { byDeployment: new Map(), size: 0, timer: null, checkedAt: this.now() - ADMISSION_SLACK_MS };
      this.byKey.set(flight.keyId, k);
      this.schedule(flight.keyId, k);
    } else if (k.size === 0) {
      // An idle key's first request again: deadlines count from its admission, as for a new record.
      // A timer still armed is due no later than the next of those deadlines (it was set for the
      // first after an earlier check), and re-checking early only re-checks.
      this.idle--;
      k.checkedAt = this.now() - ADMISSION_SLACK_MS;
      if (k.timer === null) this.schedule(flight.keyId, k);
    }
    let set = k.byDeployment.get(flight.deploymentId);
    if (set === undefined) k.byDeployment.set(flight.deploymentId, (set = new Set()));
    set.add(flight);
    k.size++;
  }

  /** Harmless for a request already removed. */
  remove(flight: Revocable): void {
    const k = this.byKey.get(flight.keyId);
    if (k === undefined) return;
    const set = k.byDeployment.get(flight.deploymentId);
    if (set === undefined || !set.delete(flight)) return;
    if (--k.size > 0) return;
    if (this.idle < MAX_IDLE) {
      this.idle++;
      return;
    }
    if (k.timer !== null) clearTimeout(k.timer);
    this.byKey.delete(flight.keyId);
  }

  /** Checks the requests the changes concern against the table and ends those it would refuse now. */
  recheck(changes: readonly AccessChange[]): void {
    if (this.byKey.size === 0) return;
    for (const change of changes) {
      if (change.scope === 'key') {
        const k = this.byKey.get(change.keyId);
        if (k !== undefined) this.recheckKey(change.keyId, k);
      } else if (change.scope === 'deployment') {
        for (const k of [...this.byKey.values()]) {
          const set = k.byDeployment.get(change.deploymentId);
          if (set === undefined) continue;
          if (set.size === 0) k.byDeployment.delete(change.deploymentId);
          else this.checkAll(set, change.unlinkReason);
        }
      } else {
        for (const [keyId, k] of [...this.byKey]) this.recheckKey(keyId, k);
      }
    }
  }

  /** Closes the upstream side of every request cut since the last time. */
  private releaseCut(): void {
    const cut = this.unreleased;
    this.unreleased = [];
    for (const flight of cut) {
      try {
        flight.release!();
      } catch {
        // One upstream that cannot be closed cleanly must not keep the others open.
      }
    }
  }

  /** Checks one key's requests; its deadlines may have moved, so they are scheduled again. An idle
   *  record (or one left idle by the check) is dropped: the key's next request makes a new one. */
  private recheckKey(keyId: string, k: KeyFlights): void {
    if (k.size > 0) {
      k.checkedAt = this.now();
      for (const set of [...k.byDeployment.values()]) this.checkAll(set, 'unlinked');
      // remove() may have dropped the record already (past MAX_IDLE).
      if (this.byKey.get(keyId) !== k) return;
    }
    if (k.size > 0) {
      this.schedule(keyId, k);
      return;
    }
    if (k.timer !== null) clearTimeout(k.timer);
    this.byKey.delete(keyId);
    this.idle--;
  }

  /** Why a request admitted with this key on this deployment would be refused now; null: it would not. */
  private refusal(flight: Revocable, key: KeyEntry | undefined, unlinkReason: CutReason, nowMs: number): CutReason | null {
    const deployment = this.table.findDeploymentById(flight.deploymentId);
    if (deployment === undefined) return 'deployment_deleted';
    // An open deployment admits anyone: switching authentication off cuts nothing, and what
    // happens to the key afterwards does not matter to it.
    if (!deployment.authEnabled) return null;
    if (key === undefined) return 'deleted';
    if (!deployment.keyIds.has(key.id)) return unlinkReason;
    if (key.expiresAtMs <= nowMs) return 'expired';
    if (flight.admittedHash === key.hash) return null;
    if (flight.admittedHash === key.previousHash && key.previousExpiresAtMs > nowMs) return null;
    return 'rotated_out';
  }

  private checkAll(set: Set<Revocable>, unlinkReason: CutReason): void {
    const nowMs = this.now();
    const counts = new Map<CutReason, number>();
    // A set holds one key's requests (on one deployment): the key is looked up once.
    let key: KeyEntry | undefined;
    let keyId: string | null = null;
    // Copied: revoking removes the request from the set.
    for (const flight of [...set]) {
      if (flight.keyId !== keyId) {
        keyId = flight.keyId;
        key = this.table.findKeyById(keyId);
      }
      const reason = this.refusal(flight, key, unlinkReason, nowMs);
      if (reason === null) continue;
      this.remove(flight);
      if (flight.release !== undefined) {
        // The upstream sides wait until after the ack (written in the microtasks that follow the
        // change being applied, or the deadline's check), in one batch.
        if (this.unreleased.length === 0) setImmediate(() => this.releaseCut());
        this.unreleased.push(flight);
      }
      try {
        flight.revoke();
      } catch {
        // One request that cannot be ended cleanly must not keep the others open.
      }
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    for (const [reason, count] of counts) this.onCut(reason, count);
  }

  /** The key's next deadline (expiry, end of an overlap) while it has requests in flight. */
  private schedule(keyId: string, k: KeyFlights): void {
    if (k.timer !== null) clearTimeout(k.timer);
    k.timer = null;
    const key = this.table.findKeyById(keyId);
    if (key === undefined) return;
    // Only deadlines after the key's last check: earlier ones were dealt with by it.
    const since = k.checkedAt;
    let at = key.expiresAtMs > since ? key.expiresAtMs : Infinity;
    if (key.previousHash !== null && key.previousExpiresAtMs > since && key.previousExpiresAtMs < at) at = key.previousExpiresAtMs;
    if (!Number.isFinite(at)) return;
    k.timer = setTimeout(() => this.deadline(keyId), Math.min(MAX_DELAY_MS, Math.max(0, at - this.now())));
    k.timer.unref();
  }

  private deadline(keyId: string): void {
    const k = this.byKey.get(keyId);
    if (k === undefined) return;
    k.timer = null;
    // An idle key has nothing to end; its next request schedules again.
    if (k.size > 0) this.recheckKey(keyId, k);
  }
}
