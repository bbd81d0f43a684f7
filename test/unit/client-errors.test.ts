// What a client sees for the failures a resolver can meet: keygate's own errors keep their code
// and field; database races get a code to act on; anything else is masked with a request id.
import { GraphQLError } from 'graphql';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.ts';
import { toClientError } from '../../src/graphql/errors.ts';

const lines: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
const seen = (error: unknown) => {
  const e = toClientError(new GraphQLError('wrapped', { originalError: error as Error }), log, 'req-1');
  return { message: e.message, extensions: e.extensions };
};

describe('toClientError', () => {
  it('keeps a domain error with its code and field', () => {
    expect(seen(new DomainError('CONFLICT', 'a deployment named "x" already exists', 'name'))).toEqual({
      message: 'a deployment named "x" already exists',
      extensions: { code: 'CONFLICT', field: 'name' },
    });
  });

  it('answers a unique violation with CONFLICT and a foreign-key race with NOT_FOUND', () => {
    expect(seen(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' })).extensions).toEqual({ code: 'CONFLICT' });
    expect(seen(Object.assign(new Error('Foreign key constraint violated on api_key_links'), { code: 'P2003' }))).toEqual({
      message: 'something this change refers to was deleted meanwhile: reload and retry',
      extensions: { code: 'NOT_FOUND' },
    });
    // The same failures of a raw statement (the driver adapter names them; Prisma says P2010).
    const raw = (kind: string) => Object.assign(new Error('Raw query failed.'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind } } } });
    expect(seen(raw('UniqueConstraintViolation')).extensions).toEqual({ code: 'CONFLICT' });
    expect(seen(raw('ForeignKeyConstraintViolation'))).toEqual({
      message: 'something this change refers to was deleted meanwhile: reload and retry',
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it('masks anything else, and logs it with the request id', () => {
    lines.length = 0;
    expect(seen(new Error('secret internals'))).toEqual({
      message: 'Unexpected error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' },
    });
    expect(lines.join('')).toContain('req-1');
  });
});
