// What the proxy refuses to pass on even with a valid key, because the upstream might read it
// differently from the proxy (SECURITY.md "Requests the proxy normalises or refuses"):
// - a Transfer-Encoding other than chunked (identity aside): the upstream then gets exactly
//   `chunked`, never a list it might frame differently;
// - a path with a dot segment however written (`..`, `%2e%2e`, `..%2f`, `..\`, `..;x`): the
//   upstream would resolve it after the proxy joined the base path, so the base-path promise would
//   depend on the upstream's decoding. Encoded slashes without dots pass as sent (a model name may
//   hold one). Checked after authentication, so an unauthenticated caller learns nothing.
// Both run per request: the common cases (no Transfer-Encoding or exactly "chunked"; a path with
// no '.', '%' or '\') return at the first test, allocating nothing.

export type ShapeProblem = 'unsupported_transfer_encoding' | 'invalid_path' | null;

export function shapeProblem(transferEncoding: string | undefined, path: string): ShapeProblem {
  if (transferEncoding !== undefined && transferEncoding !== 'chunked' && !isOnlyChunked(transferEncoding)) return 'unsupported_transfer_encoding';
  return hasDotSegment(path) ? 'invalid_path' : null;
}

/** Node's parser admits a list whose last coding is chunked; of the rest, only identity (a no-op
 *  coding) is acceptable, since the proxy decodes nothing else. */
function isOnlyChunked(value: string): boolean {
  const codings = value.toLowerCase().split(',');
  let chunked = 0;
  for (const raw of codings) {
    const coding = raw.trim();
    if (coding === 'chunked') chunked++;
    else if (coding !== 'identity' && coding !== '') return false;
  }
  return chunked === 1;
}

/** Whether the path (before any '?') has a `.` or `..` segment once %2E, %2F, %5C (also as
 *  %252E… double encoding) are decoded and `\` read as `/`; a `;param` tail is ignored, as some
 *  servers do (`..;/`). A target that is not a path ('*', absolute-form) is not a concern here. */
export function hasDotSegment(path: string): boolean {
  if (path.charCodeAt(0) !== 47 /* / */) return false;
  const q = path.indexOf('?');
  let p = q === -1 ? path : path.slice(0, q);
  if (p.indexOf('.') === -1 && p.indexOf('%') === -1 && p.indexOf('\\') === -1) return false;
  p = p.toLowerCase();
  for (let i = 0; i < 3 && p.includes('%25'); i++) p = p.replaceAll('%25', '%');
  p = p.replaceAll('%2e', '.').replaceAll('%2f', '/').replaceAll('%5c', '/').replaceAll('\\', '/');
  for (const segment of p.split('/')) {
    const semi = segment.indexOf(';');
    const name = semi === -1 ? segment : segment.slice(0, semi);
    if (name === '.' || name === '..') return true;
  }
  return false;
}
