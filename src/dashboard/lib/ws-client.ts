// The dashboard's graphql-ws connections (live.ts follows the change log, usage-live.ts the usage):
// where /graphql's socket is, a client that signs in with the session's token, and one
// subscription kept on a client until stopped, subscribed again when the server ends it.
import { type Client, type ClientOptions, createClient } from 'graphql-ws';
import { bearer } from './session.ts';

export const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

/** A client for `token` that connects with its first subscription; `options` say how it retries and what it tells. */
export function dashboardClient(token: string, options: Omit<ClientOptions, 'url' | 'connectionParams' | 'lazy'>): Client {
  return createClient({ url: wsUrl(), connectionParams: { authorization: bearer(token) }, lazy: true, ...options });
}

export interface KeptSubscription {
  /** subscribes (not once stopped) */
  subscribe: () => void;
  /** the server ended the subscription; false once stopped, when nothing is to follow */
  ended: () => boolean;
  /** subscribes again after `delayMs`, then calls `then` */
  again: (delayMs: number, then?: () => void) => void;
  /** unsubscribes, cancels a pending `again` and closes the client */
  stop: () => void;
}

/** `open` subscribes on `client` and returns how to unsubscribe. */
export function keepSubscription(client: Client, open: () => () => void): KeptSubscription {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let unsubscribe: (() => void) | null = null;
  const subscribe = () => {
    if (!stopped) unsubscribe = open();
  };
  return {
    subscribe,
    ended: () => {
      unsubscribe = null;
      return !stopped;
    },
    again: (delayMs, then) => {
      timer = setTimeout(() => {
        subscribe();
        then?.();
      }, delayMs);
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribe?.();
      void client.dispose();
    },
  };
}
