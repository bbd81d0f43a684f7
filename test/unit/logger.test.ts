// Logs: readable lines for a person at a terminal, JSON for everything else.
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger, terminalDestination } from '../../src/server/logger.ts';

const terminal = (isTTY: boolean) => Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.WriteStream & PassThrough;

it('writes readable lines to a terminal, and redacts there too', async () => {
  const stream = terminal(true);
  let text = '';
  stream.on('data', (d) => (text += d));
  const log = createLogger('info', await terminalDestination(stream));
  log.info({ port: 8080, token: 'kgat_secret' }, 'proxy listening');
  await new Promise((resolve) => setImmediate(resolve));
  expect(text).toMatch(/^\S*\[\d\d:\d\d:\d\d\.\d{3}\]\S* \S*INFO\S*.*proxy listening/);
  expect(text).toContain('8080');
  expect(text).not.toContain('kgat_secret');
  expect(text).not.toContain('{"level"');
});

it('keeps JSON when stdout is not a terminal', async () => {
  expect(await terminalDestination(terminal(false))).toBeUndefined();
});
