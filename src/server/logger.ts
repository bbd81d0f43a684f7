// pino JSON logs. Anything that could carry a credential is redacted by path as a second line of
// defence; the first is never putting secrets or hashes into log objects at all.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.secret',
  '*.token',
  '*.hash',
  'secret',
  'token',
  'hash',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'keygate' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}

export type { Logger };
