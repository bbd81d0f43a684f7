// Rate limits per key (docs/api.md, "Rate limits"): the limits a key has, the input that sets
// them, and its use of them in the current window. The fields on ApiKey are in api-key.ts.
import { builder } from '../builder.ts';

export interface RateLimitShape {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export const RateLimitRef = builder.objectRef<RateLimitShape>('RateLimit').implement({
  description:
    'at most this many in any 60-second window, for the key across all its deployments and every proxy replica; null: no limit of that kind',
  fields: (t) => ({
    requestsPerMinute: t.exposeInt('requestsPerMinute', { nullable: true }),
    tokensPerMinute: t.exposeInt('tokensPerMinute', { nullable: true }),
  }),
});

export const RateLimitInput = builder.inputType('RateLimitInput', {
  description: 'each value 1–10,000,000; omitted or null: no limit of that kind',
  fields: (t) => ({
    requestsPerMinute: t.int(),
    tokensPerMinute: t.int(),
  }),
});

export interface RateLimitUsageShape {
  requests: number;
  tokens: number;
  resetsAt: Date;
}

export const RateLimitUsageRef = builder.objectRef<RateLimitUsageShape>('RateLimitUsage').implement({
  description: "the key's use in the current 60-second window, fleet-wide and approximate",
  fields: (t) => ({
    requests: t.exposeInt('requests'),
    tokens: t.exposeInt('tokens'),
    resetsAt: t.expose('resetsAt', { type: 'DateTime', description: 'when what is counted now has left the window' }),
  }),
});

/** A key row's limits as the API shows them; null: unlimited. */
export function rateLimitOf(key: { rateLimitRequests: number | null; rateLimitTokens: number | null }): RateLimitShape | null {
  if (key.rateLimitRequests === null && key.rateLimitTokens === null) return null;
  return { requestsPerMinute: key.rateLimitRequests, tokensPerMinute: key.rateLimitTokens };
}
