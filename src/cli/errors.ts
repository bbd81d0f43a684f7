// The CLI's one error style: a failure the user can act on is printed as one line, no stack.

/** A failure the user can act on: printed as `keygate: <message>` with exit code 1, no stack. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * Failures that explain themselves (bad configuration, an unreachable or unmigrated database, a
 * locked data directory, a refused request): their message is the whole story. Matched by name so
 * that recognising them does not load the modules that define them.
 */
const EXPECTED = new Set(['ConfigError', 'NotMigratedError', 'StartupError', 'DomainError', 'DataDirLockedError', 'DatabaseUnreachableError']);

export function asCliError(error: unknown): unknown {
  return error instanceof Error && EXPECTED.has(error.name) ? new CliError(error.message) : error;
}
