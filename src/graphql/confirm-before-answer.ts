// The last step of a mutation's answer: each mutation resolver hands its change's propagation to
// the operation's Confirmations (ctx.confirmations.awaitBeforeAnswer, src/feed/propagation.ts);
// this holds the operation's response until those have settled. They settle while the rest of
// the payload is read, not before.
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from './context.ts';

/** Holds each operation's answer until the confirmations its resolvers handed over have settled. */
export const useConfirmBeforeAnswer = (): Plugin<GraphQLContext> => ({
  onExecute: ({ args }) => ({
    onExecuteDone: async () => {
      await (args.contextValue as GraphQLContext).confirmations?.settled();
    },
  }),
});
