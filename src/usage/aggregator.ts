// Usage counted in memory per (deployment, key, minute), between flushes. The proxy's request path
// calls one of the record methods: two Map lookups and a few additions, no allocation once a
// (deployment, key) pair has its counter for the current minute. Memory is bounded by the pairs
// active between two flushes (each flush drains everything).

/** What one (deployment, key, minute) bucket counts; field names as UsageBucket's. */
export interface UsageCounts {
  requests: number;
  errors: number;
  rejected: number;
  rateLimited: number;
  promptTokens: number;
  completionTokens: number;
}

export interface UsageRow extends UsageCounts {
  /** bucket start, epoch ms, aligned to the minute */
  minute: number;
  projectId: string;
  deploymentId: string;
  /** null: refused requests that named no known key (and open deployments' requests) */
  apiKeyId: string | null;
  /** epoch ms of the last request this key authorized in the bucket; 0 when none did */
  lastUsedAt: number;
}

/** Who a request is counted for. */
export interface UsageTarget {
  readonly id: string;
  readonly projectId: string;
}

export const MINUTE_MS = 60_000;
const NO_KEY = '';

export const emptyCounts = (): UsageCounts => ({ requests: 0, errors: 0, rejected: 0, rateLimited: 0, promptTokens: 0, completionTokens: 0 });

/** Adds b's counts into a. */
export function addCounts(a: UsageCounts, b: UsageCounts): void {
  a.requests += b.requests;
  a.errors += b.errors;
  a.rejected += b.rejected;
  a.rateLimited += b.rateLimited;
  a.promptTokens += b.promptTokens;
  a.completionTokens += b.completionTokens;
}

export class UsageAggregator {
  /** minute start → deployment id → key id ('' for none) → row */
  private minutes = new Map<number, Map<string, Map<string, UsageRow>>>();
  /** the current minute's deployments, to skip one lookup on the hot path */
  private currentMinute = -1;
  private current: Map<string, Map<string, UsageRow>> | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** A request forwarded to the upstream; `error`: answered 5xx, or 502/504 by keygate. */
  forwarded(deployment: UsageTarget, keyId: string | null, error: boolean): void {
    const now = this.now();
    const row = this.row(deployment, keyId, now);
    row.requests++;
    if (error) row.errors++;
    if (keyId !== null) row.lastUsedAt = now;
  }

  /** Tokens from the response's usage object, counted when the response ends. */
  tokens(deployment: UsageTarget, keyId: string | null, promptTokens: number, completionTokens: number): void {
    if (promptTokens === 0 && completionTokens === 0) return;
    const row = this.row(deployment, keyId, this.now());
    row.promptTokens += promptTokens;
    row.completionTokens += completionTokens;
  }

  /** A 401; keyId only for a known key of the deployment's project that does not open it. */
  rejected(deployment: UsageTarget, keyId: string | null): void {
    this.row(deployment, keyId, this.now()).rejected++;
  }

  /** A 429. */
  rateLimited(deployment: UsageTarget, keyId: string | null): void {
    this.row(deployment, keyId, this.now()).rateLimited++;
  }

  /** Everything counted since the last drain; the aggregator starts empty again. */
  drain(): UsageRow[] {
    const rows: UsageRow[] = [];
    for (const byDeployment of this.minutes.values()) {
      for (const byKey of byDeployment.values()) for (const row of byKey.values()) rows.push(row);
    }
    this.minutes = new Map();
    this.currentMinute = -1;
    this.current = null;
    return rows;
  }

  get isEmpty(): boolean {
    return this.minutes.size === 0;
  }

  private row(deployment: UsageTarget, keyId: string | null, now: number): UsageRow {
    const minute = now - (now % MINUTE_MS);
    let byDeployment = this.current;
    if (minute !== this.currentMinute || byDeployment === null) {
      byDeployment = this.minutes.get(minute) ?? null;
      if (byDeployment === null) this.minutes.set(minute, (byDeployment = new Map()));
      this.currentMinute = minute;
      this.current = byDeployment;
    }
    let byKey = byDeployment.get(deployment.id);
    if (!byKey) byDeployment.set(deployment.id, (byKey = new Map()));
    const key = keyId ?? NO_KEY;
    let row = byKey.get(key);
    if (!row) {
      row = { minute, projectId: deployment.projectId, deploymentId: deployment.id, apiKeyId: keyId, lastUsedAt: 0, ...emptyCounts() };
      byKey.set(key, row);
    }
    return row;
  }
}
