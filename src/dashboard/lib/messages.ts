// The API's messages in the dashboard's words: the input field's name as its form labels it (not
// the API's camelCase), and nothing that only an operator can act on shown as if the user could.
const LABELS: Record<string, string> = {
  name: 'Name',
  slug: 'Slug',
  description: 'Description',
  model: 'Model',
  upstreamUrl: 'Upstream URL',
  expiresAt: 'Expiry date',
  apiKeyId: 'This key',
  apiKeyIds: 'A selected key',
  search: 'Search',
  'rateLimit.requestsPerMinute': 'Requests per minute',
  'rateLimit.tokensPerMinute': 'Tokens per minute',
};

const REWRITES: [RegExp, string][] = [
  [/^expiresAt must be in the future$/, 'Pick a date in the future.'],
  [/^expiresAt is not a valid date-time$/, 'Pick a valid date.'],
  [/^upstreamUrl points at (.+), an address keygate refuses as an upstream.*$/, 'keygate refuses $1 as an upstream. Ask whoever runs keygate to allow it, or use another address.'],
  [/^upstreamUrl must be an http or https URL without credentials$/, 'Enter an http:// or https:// address, without a user name or password.'],
  [/^the API key "(.+)" has expired and cannot be linked.*$/, 'The key "$1" has expired and cannot be linked: extend its expiry first, or pick another key.'],
];

export function friendlyMessage(message: string, field?: string): string {
  for (const [pattern, replacement] of REWRITES) if (pattern.test(message)) return message.replace(pattern, replacement);
  if (field && LABELS[field] && message.startsWith(`${field} `)) return `${LABELS[field]} ${message.slice(field.length + 1)}.`;
  return message;
}
