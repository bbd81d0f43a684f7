// pino logs: JSON, or readable lines when a person watches a terminal. Anything that could carry a credential is redacted by path as a second line of
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

/**
 * Readable lines (pino-pretty, loaded only then) when stdout is a terminal; undefined otherwise,
 * which keeps pino's JSON for log collectors.
 */
export async function terminalDestination(stream: NodeJS.WriteStream = process.stdout): Promise<DestinationStream | undefined> {
  if (!stream.isTTY) return undefined;
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: stream, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true });
}

export type { Logger };
