import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { printedSchema, SCHEMA_FILE } from '../src/graphql/print-schema.ts';

it('schema.graphql is generated from the Pothos builder and up to date (npm run schema:generate)', async () => {
  expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(printedSchema());
});
