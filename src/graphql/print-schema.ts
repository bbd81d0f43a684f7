// `npm run schema:generate` writes schema.graphql from the Pothos builder; `schema:check` fails
// when the committed file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

export const printedSchema = () => `${printSchema(schema)}\n`;

async function main(mode: string | undefined) {
  const printed = printedSchema();
  if (mode === '--write') {
    await writeFile(SCHEMA_FILE, printed);
    console.log(`wrote ${SCHEMA_FILE}`);
    return;
  }
  const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
  if (committed !== printed) {
    console.error('schema.graphql is stale: run npm run schema:generate and commit it');
    process.exit(1);
  }
  console.log('schema.graphql is up to date');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv[2]);
