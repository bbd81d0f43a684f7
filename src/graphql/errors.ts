// One error style at the API: expected failures are GraphQL errors with extensions.code (and
// field); anything unexpected is masked and logged with a request id.
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { PothosValidationError } from '@pothos/core';
import { DomainError } from '../domain/errors.ts';

const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

function isUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && /connect|connection|terminat|timed out|ECONNREFUSED|Closed|socket/i.test(e.message) && /DriverAdapterError|database|postgres|pool|connect/i.test(`${(e as { name?: string }).name} ${e.message}`)) {
      return true;
    }
    e = e.cause as typeof e;
  }
  return false;
}

/** Maps any error thrown while executing an operation to what the client may see. */
export function toClientError(error: unknown, log: Logger, requestId: string): GraphQLError {
  const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof DomainError) {
    const status = original.code === 'UNAUTHENTICATED' ? { http: { status: 401 } } : {};
    return new GraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: original.code, ...(original.field ? { field: original.field } : {}), ...status },
    });
  }
  if (original instanceof PothosValidationError) {
    // Pothos checks connection arguments before our resolvers see them.
    const field = /cursor/i.test(original.message) ? 'after' : /"(\w+)"/.exec(original.message)?.[1];
    return new GraphQLError(field === 'after' ? 'after is not a cursor of this connection' : original.message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) },
    });
  }
  if ((original as { code?: string })?.code === 'P2003') {
    // A foreign key failed: a row the change refers to was deleted by a concurrent change.
    return new GraphQLError('something this change refers to was deleted meanwhile: reload and retry', {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'NOT_FOUND' },
    });
  }
  if ((original as { code?: string })?.code === 'P2002') {
    return new GraphQLError('a record with this name already exists', {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'CONFLICT' },
    });
  }
  if (isUnavailable(original)) {
    log.warn({ requestId, err: { message: (original as Error).message } }, 'database or Redis unavailable');
    return new GraphQLError('the database or Redis cannot be reached right now: retry', {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: 'UNAVAILABLE' },
    });
  }
  if (error instanceof GraphQLError && !error.originalError) return error; // parse, validation, query limits
  if (error instanceof GraphQLError && error.originalError instanceof GraphQLError) return error.originalError;
  log.error({ requestId, err: original }, 'unexpected error');
  return new GraphQLError('Unexpected error.', {
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
  });
}
