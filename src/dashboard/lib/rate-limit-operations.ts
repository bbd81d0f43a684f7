// The operation of the key page's rate limit panel (docs/api.md, "Rate limits"). `npm run codegen`
// types it like operations.ts.
import { graphql } from '../generated/gql.ts';

/** The key's limits and its use in the current window (fleet-wide, approximate). */
export const KeyRateLimitQuery = graphql(`
  query DashboardKeyRateLimit($id: ID!) {
    node(id: $id) {
      ... on ApiKey { id rateLimit { requestsPerMinute tokensPerMinute } rateLimitUsage { requests tokens resetsAt } }
    }
  }
`);
