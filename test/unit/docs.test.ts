// The design lives in docs/: operations.md names every variable the configuration reads and every
// metric keygate registers, and what code comments cite there exists (a file and, when quoted, a
// section heading), so neither the docs nor the comments can drift silently.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config/config.ts';

const root = new URL('../../', import.meta.url).pathname;
const read = (path: string) => readFile(join(root, path), 'utf8');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(ts|tsx|mjs)$/.test(e.name) && !e.parentPath.includes('generated'))
    .map((e) => join(e.parentPath, e.name).slice(root.length));
}

/** A section heading as written, without Markdown's backticks, lower case. */
const headings = (markdown: string) =>
  [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.replaceAll('`', '').trim().toLowerCase());

it('operations.md documents every configuration variable, and no variable keygate does not read', async () => {
  const doc = await read('docs/operations.md');
  for (const name of CONFIG_VARIABLES) expect(doc, name).toContain(`\`${name}\``);
  const documented = new Set([...doc.matchAll(/`(KEYGATE_[A-Z_]+)`/g)].map((m) => m[1]!));
  for (const name of documented) expect(CONFIG_VARIABLES, name).toContain(name);
});

it('operations.md documents every keygate_ metric, and no metric keygate does not register', async () => {
  const registered = new Set<string>();
  for (const file of await sourceFiles('src')) {
    for (const m of (await read(file)).matchAll(/name: '(keygate_[a-z_]+)'/g)) registered.add(m[1]!);
  }
  expect(registered.size).toBeGreaterThan(10);
  const doc = await read('docs/operations.md');
  for (const name of registered) expect(doc, name).toContain(`\`${name}`);
  const metrics = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('## Logs'));
  const documented = new Set([...metrics.matchAll(/`(keygate_[a-z_]+)[`{]/g)].map((m) => m[1]!));
  for (const name of documented) expect([...registered], name).toContain(name);
});

it('comments cite the docs in the repository, and the sections they name exist', async () => {
  const docs = {
    'docs/architecture.md': headings(await read('docs/architecture.md')),
    'docs/api.md': headings(await read('docs/api.md')),
    'docs/operations.md': headings(await read('docs/operations.md')),
  };
  const files = [...(await sourceFiles('src')), ...(await sourceFiles('test')), ...(await sourceFiles('bench'))];
  let cited = 0;
  for (const file of files) {
    // Comments wrap: join continued comment lines so a citation split over two reads as one.
    const text = (await read(file)).replace(/\n\s*(\/\/|\*)\s?/g, ' ');
    expect(text, file).not.toMatch(/\b(DESIGN|API)\.md/);
    for (const m of text.matchAll(/(docs\/[a-z]+\.md),? \(?"([^"]+)"/g)) {
      const sections = docs[m[1] as keyof typeof docs];
      expect(sections, `${file} cites ${m[1]}`).toBeDefined();
      expect(sections!.some((h) => h.startsWith(m[2]!.toLowerCase())), `${file} cites ${m[1]}, "${m[2]}"`).toBe(true);
      cited++;
    }
    if (/docs: (the )?change-feed protocol/i.test(text)) {
      expect(docs['docs/architecture.md']).toContain('change-feed protocol');
      cited++;
    }
  }
  expect(cited).toBeGreaterThan(10);
});
