// The variables that docker-compose.yml and the Dockerfile set must be ones keygate reads.
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/config.ts';

const root = new URL('../../', import.meta.url);

it('docker-compose.yml and the Dockerfile only set variables the configuration knows, with valid values', async () => {
  const compose = await readFile(new URL('docker-compose.yml', root), 'utf8');
  const block = compose.slice(compose.indexOf('environment: &env'), compose.indexOf('depends_on', compose.indexOf('environment: &env')));
  const composeVars = Object.fromEntries(
    [...block.matchAll(/^\s+([A-Z_]+):\s*"?([^"\n]*)"?$/gm)].map((m) => [m[1]!, m[2]!.trim()]),
  );
  const dockerfile = await readFile(new URL('Dockerfile', root), 'utf8');
  const envLine = /^ENV (.+)$/m.exec(dockerfile)?.[1] ?? '';
  const dockerVars = Object.fromEntries(envLine.split(/\s+/).map((pair) => pair.split('=') as [string, string]));

  expect(Object.keys(composeVars).length).toBeGreaterThan(3);
  for (const name of [...Object.keys(composeVars), ...Object.keys(dockerVars)]) expect(CONFIG_VARIABLES).toContain(name);
  expect(() => loadConfig({ ...dockerVars, ...composeVars })).not.toThrow();
});
