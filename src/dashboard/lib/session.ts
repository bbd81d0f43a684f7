// The signed-in access token: kept in this tab's session storage only, so closing the tab signs
// out, and sent as `Authorization: Bearer` on every request and in graphql-ws connection_init.
const KEY = 'keygate.token';

export const session = {
  token: (): string | null => sessionStorage.getItem(KEY),
  signIn: (token: string) => sessionStorage.setItem(KEY, token),
  signOut: () => sessionStorage.removeItem(KEY),
};

export const bearer = (token: string) => `Bearer ${token}`;
