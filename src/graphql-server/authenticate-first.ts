// A request without a valid access token is answered 401 UNAUTHENTICATED before its document is
// parsed or validated (API.md, "Fixes to the 0.1 contract"): validation errors name the schema's
// types and fields, which an unauthenticated caller must not learn. yoga builds the context (where
// the token used to be checked) only after validation, so the token is checked when the request's
// request arrives, once per HTTP request (the operations of a batch share it), and the context
// reuses that answer.
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../domain/access.ts';

export interface RequestAuthentication {
  /** The request's viewer, null without a valid token; one lookup per request object. */
  viewerOf(request: Request): Promise<Viewer | null>;
  /** Answers an unauthenticated request at once, before parsing and validation. */
  plugin: Plugin;
}

export function authenticateFirst(
  authenticate: (authorization: string | null) => Promise<Viewer | null>,
  unauthenticated: () => GraphQLError,
  endpoint = '/graphql',
): RequestAuthentication {
  const viewers = new WeakMap<Request, Promise<Viewer | null>>();
  const viewerOf = (request: Request) => {
    let viewer = viewers.get(request);
    if (!viewer) viewers.set(request, (viewer = authenticate(request.headers.get('authorization'))));
    return viewer;
  };
  return {
    viewerOf,
    plugin: {
      // Before the body is parsed: a batch is refused whole, with one 401. The GraphiQL page (a GET
      // without a query) and CORS preflights carry no token and pass. A failed lookup (the
      // database is down) is left to the context factory, which answers it as it always has; here
      // only a definite "no valid token" ends the request.
      onRequest: async ({ request, url, endResponse, fetchAPI }) => {
        if (url.pathname !== endpoint || request.method === 'OPTIONS') return;
        if (request.method === 'GET' && !url.searchParams.has('query')) return;
        const viewer = await viewerOf(request).catch(() => undefined);
        if (viewer !== null) return;
        const body = JSON.stringify({ errors: [{ message: unauthenticated().message, extensions: { code: 'UNAUTHENTICATED' } }] });
        endResponse(new fetchAPI.Response(body, { status: 401, headers: { 'content-type': 'application/json; charset=utf-8' } }));
      },
    },
  };
}
