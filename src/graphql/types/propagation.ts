import type { Propagation } from '../../feed/propagation.ts';
import { builder } from '../builder.ts';

export const PropagationRef = builder.objectRef<Propagation>('Propagation').implement({
  description: 'How far a change has reached the data-plane proxies when the mutation returned.',
  fields: (t) => ({
    revision: t.exposeInt('revision'),
    confirmed: t.exposeBoolean('confirmed', { description: 'every live proxy enforces this revision' }),
    appliedBy: t.exposeInt('appliedBy'),
    expected: t.exposeInt('expected'),
  }),
});
