// The signed-in access token: kept in this browser's local storage, so every tab of the dashboard
// shares one session (signing in or out in one tab does it in all), and sent as
// `Authorization: Bearer` on every request and in graphql-ws connection_init.
const KEY = 'keygate.token';

export const session = {
  token: (): string | null => localStorage.getItem(KEY),
  signIn: (token: string) => localStorage.setItem(KEY, token),
  signOut: () => localStorage.removeItem(KEY),
  /** Told when another tab signs in or out; returns a function that stops listening. */
  onChange(handler: (token: string | null) => void): () => void {
    const listener = (event: StorageEvent) => {
      if (event.key === KEY || event.key === null) handler(localStorage.getItem(KEY));
    };
    addEventListener('storage', listener);
    return () => removeEventListener('storage', listener);
  },
};

export const bearer = (token: string) => `Bearer ${token}`;
