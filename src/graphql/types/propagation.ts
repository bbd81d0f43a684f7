import type { HeldPropagation, Propagation } from '../../feed/propagation.ts';
import { builder } from '../builder.ts';

/**
 * A mutation's propagation is still being confirmed while the rest of its payload is read (see
 * feed/recorder.ts), so the payload holds the promise and each field waits for it. Only a held
 * one is accepted: the response waits for it even when the client did not ask for it
 * (ctx.confirmations.awaitBeforeAnswer in each mutation's resolver).
 */
type PendingPropagation = Propagation | HeldPropagation;

export const PropagationRef = builder.objectRef<PendingPropagation>('Propagation').implement({
  description: 'How far a change has reached the data-plane proxies when the mutation returned.',
  fields: (t) => ({
    revision: t.int({ resolve: async (p) => (await p).revision }),
    confirmed: t.boolean({ description: 'every live proxy enforces this revision', resolve: async (p) => (await p).confirmed }),
    appliedBy: t.int({ resolve: async (p) => (await p).appliedBy }),
    expected: t.int({ resolve: async (p) => (await p).expected }),
  }),
});
