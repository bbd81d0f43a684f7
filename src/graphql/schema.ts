// Imports every type, then builds the schema. Nothing else lives here.
import { builder } from './builder.ts';
import { syncNodeIds } from './ids.ts';
import { countLinkLists } from './operation-limits.ts';
import './types/scalars.ts';
import './types/propagation.ts';
import './types/project.ts';
import './types/rate-limit.ts';
import './types/api-key.ts';
import './types/deployment.ts';
import './types/access-token.ts';
import './types/project-event.ts';
import './types/usage.ts';

export const schema = syncNodeIds(countLinkLists(builder.toSchema({ sortSchema: true })));
