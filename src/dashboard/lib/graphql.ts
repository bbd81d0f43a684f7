// Sends the dashboard's operations to /graphql with the session's token. Errors come back as
// ApiError with keygate's extensions (code, and the input field at fault), so forms can show them
// at the field.
import type { TypedDocumentString } from '../generated/graphql.ts';
import { friendlyMessage } from './messages.ts';
import { bearer, session } from './session.ts';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Told when the token is refused, so the app can sign out. */
let onUnauthenticated: () => void = () => {};
export const whenUnauthenticated = (handler: () => void) => {
  onUnauthenticated = handler;
};

interface Reply<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

export async function request<T, V>(document: TypedDocumentString<T, V>, variables: V, token = session.token()): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: bearer(token) } : {}) },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new ApiError('keygate cannot be reached: check that it is running, then retry', 'NETWORK');
  }
  const reply = (await res.json().catch(() => ({}))) as Reply<T>;
  const first = reply.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'ERROR';
    // Only the session's own token being refused signs out; a token tried at sign-in is not a session.
    if (code === 'UNAUTHENTICATED' && token !== null && token === session.token()) onUnauthenticated();
    throw new ApiError(friendlyMessage(first.message, first.extensions?.field), code, first.extensions?.field);
  }
  if (!reply.data) throw new ApiError(`keygate answered HTTP ${res.status} without data`, 'ERROR');
  return reply.data;
}

/** The message to show for any failure. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
