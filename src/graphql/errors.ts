// One error style at the API: expected failures are GraphQL errors with extensions.code (and
// field); anything unexpected is masked and logged with a request id.
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { PothosValidationError } from '@pothos/core';
import { dbFailure } from '../db/errors.ts';
import { DomainError } from '../domain/errors.ts';

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
  const failure = dbFailure(original);
  if (failure && failure.code !== 'RETRYABLE') {
    if (failure.code === 'UNAVAILABLE') log.warn({ requestId, err: { message: (original as Error).message } }, 'database or Redis unavailable');
    return new GraphQLError(failure.message, {
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: failure.code },
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
