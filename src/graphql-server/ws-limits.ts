// graphql-ws limits against a hostile tenant (docs/operations.md, "Limits against a hostile tenant"; issue
// 15, finding 2: one connection took 10,000 subscriptions and one change then blocked the process
// for ~10 s). Per connection, at most `maxSubscriptions` operations at once: the excess gets a
// graphql-ws `error` message with code TOO_MANY_SUBSCRIPTIONS and never starts (the connection
// and its other subscriptions stay). Per access token, at most `maxConnectionsPerToken` sessions
// on this control plane: the excess is closed with 1013 after connection_init. Per access token,
// at most `maxSubscriptionsPerToken` operations at once across all its connections on this
// control plane (10 connections × 100 would otherwise be 100,000 executions of one event): the
// excess gets TOO_MANY_SUBSCRIPTIONS as above. The global cap is
// the server's connection cap (KEYGATE_CONTROL_PLANE_MAX_CONNECTIONS), WebSockets included.
import { GraphQLError } from 'graphql';

export const TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS';

export interface WsLimits {
  /** operations (subscriptions and queries) running at once on one connection; default 100 */
  maxSubscriptions: number;
  /** graphql-ws sessions one access token may hold on one control plane; default 1,000 */
  maxConnectionsPerToken: number;
  /** operations one access token runs at once across its connections on one control plane; default 1,000 */
  maxSubscriptionsPerToken: number;
}

export const WS_LIMITS: WsLimits = { maxSubscriptions: 100, maxConnectionsPerToken: 1_000, maxSubscriptionsPerToken: 1_000 };

/** The refusal of one subscription over the limit, or null; `running` is graphql-ws's map of the connection's operations, this one included. */
export function refuseExtraSubscription(running: Record<string, unknown>, max: number): GraphQLError[] | null {
  if (Object.keys(running).length <= max) return null;
  return [
    new GraphQLError(`a connection may run at most ${max} subscriptions at once: complete one first, or open another connection`, {
      extensions: { code: TOO_MANY_SUBSCRIPTIONS, maxSubscriptions: max },
    }),
  ];
}

/** The refusal of one subscription over its token's limit across connections. */
export function refuseTokenSubscription(max: number): GraphQLError[] {
  return [
    new GraphQLError(`an access token may run at most ${max} subscriptions at once on this control plane: complete some first`, {
      extensions: { code: TOO_MANY_SUBSCRIPTIONS, maxSubscriptionsPerToken: max },
    }),
  ];
}

/** Open sessions (or running operations) per access token on this replica. */
export function createSessionCounter(maxPerToken: number) {
  const open = new Map<string, number>();
  return {
    /** Counts a session of `token`; false (and nothing counted) when it already holds the maximum. */
    admit(token: string): boolean {
      const count = open.get(token) ?? 0;
      if (count >= maxPerToken) return false;
      open.set(token, count + 1);
      return true;
    },
    release(token: string): void {
      const count = (open.get(token) ?? 1) - 1;
      if (count <= 0) open.delete(token);
      else open.set(token, count);
    },
  };
}
