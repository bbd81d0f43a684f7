// A mutation answers only once its change is confirmed by the proxies (or the propagation timeout
// passed), whether or not the client selected `propagation`: "takes effect on the next request
// after saving" must hold for every client. The confirmation runs alongside the reads of the rest
// of the payload instead of before them (domain/changes.ts hands it back as a promise).
import type { Plugin } from 'graphql-yoga';
import type { Changes } from '../domain/changes.ts';
import type { DomainDeps } from '../domain/deps.ts';
import type { GraphQLContext } from './context.ts';

/** The domain for one operation, remembering every confirmation its changes wait for. */
export function confirmingDomain(domain: DomainDeps): { domain: DomainDeps; confirmed: () => Promise<unknown> } {
  const pending: Promise<unknown>[] = [];
  const changes: Changes = {
    async run(actor, work) {
      const outcome = await domain.changes.run(actor, work);
      pending.push(outcome.propagation);
      return outcome;
    },
  };
  return { domain: { ...domain, changes }, confirmed: () => Promise.all(pending) };
}

/** Holds each operation's answer until the confirmations its context collected have settled. */
export const useConfirmBeforeAnswer = (): Plugin<GraphQLContext> => ({
  onExecute: ({ args }) => ({
    onExecuteDone: async () => {
      await (args.contextValue as GraphQLContext).confirmed?.();
    },
  }),
});
