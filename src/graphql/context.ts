import type { PrismaClient } from '../db/database.ts';
import type { Viewer } from '../domain/access.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { ChangeEvent } from '../feed/events.ts';
import type { Confirmations } from '../feed/propagation.ts';
import type { UsageUpdateMessage } from '../usage/usage-update.ts';
import type { LimitUsage } from '../ratelimit/limiter.ts';
import type { OperationBudget } from './operation-limits.ts';

/** What every resolver receives: who is asking, and the services to ask. */
export interface GraphQLContext {
  viewer: Viewer;
  prisma: PrismaClient;
  domain: DomainDeps;
  events: ProjectEvents;
  /** the live usage the proxies publish (usageUpdates) */
  usage: UsageUpdates;
  /** a key's use of its rate limit in the current window (ApiKey.rateLimitUsage) */
  rateLimits: { read(keyId: string): Promise<LimitUsage> };
  /** the confirmations this operation's answer waits for (mutations hand theirs over) */
  confirmations: Confirmations;
  /** what the request may still spend: link-list items and time (operation-limits.ts) */
  budget: OperationBudget;
  /** the URL clients call for a deployment */
  endpointUrl(projectSlug: string, deploymentName: string): string;
}

/** A Prisma `select`/`include` for one model, as `queryFromInfo` builds it. */
export type ModelQuery = Record<string, unknown>;

/**
 * One change event as a `projectEvents` subscriber sees it. Its apiKey/deployment are read once
 * per selection shape and shared by every subscriber the event reaches.
 */
export interface DeliveredEvent {
  event: ChangeEvent;
  apiKey(query?: ModelQuery): Promise<unknown>;
  deployment(query?: ModelQuery): Promise<unknown>;
}

export interface StreamOptions {
  /** the access token that opens the stream; null or absent: never revoked (the env admin token) */
  tokenId?: string | null;
  /** told synchronously when the subscriber's queue overflows, so the transport can end the connection */
  onSlowConsumer?: (error: Error) => void;
}

/** The project change streams the `projectEvents` subscription reads (src/graphql-server/project-events.ts). */
export interface ProjectEvents {
  /**
   * Checks afterRevision (BAD_USER_INPUT above the head, RESYNC_REQUIRED below the retained log),
   * then opens the stream. The iterator's return() ends it at once, even while it waits.
   */
  stream(projectId: string, afterRevision: number | null, options?: StreamOptions): Promise<AsyncIterableIterator<DeliveredEvent>>;
}

/** Context field a transport adds so a slow subscriber's whole connection can be ended (graphql-ws: 1013). */
export interface SlowConsumerHook {
  onSlowConsumer?: (error: Error) => void;
}

/** One `usageUpdates` item: the counts of one (deployment, key) and when the interval they cover ends. */
export interface DeliveredUsage extends UsageUpdateMessage {
  at: Date;
}

/** The live usage streams the `usageUpdates` subscription reads (src/graphql-server/usage-updates.ts). */
export interface UsageUpdates {
  /** Live only (the history is in the usage tables). The iterator's return() ends it at once. */
  stream(projectId: string, options?: StreamOptions): AsyncIterableIterator<DeliveredUsage>;
}
