// Where a run's figures go: bench/results.json and bench/results.md always, and the README's
// Performance table (between its bench markers) after a full run — the one the README quotes.
//
// A partial run (--only) keeps the sections it did not run from the results.json already there,
// so the file always holds the latest figure of every key; its table marks those "not run".
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from './report.ts';

const BEGIN = '<!-- bench:results -->';
const END = '<!-- /bench:results -->';

/** The sections of the previous results.json that this run does not replace (not its targets or machine). */
export function earlierSections(root: string, running: ReadonlySet<string>): Record<string, Section> {
  const file = join(root, 'bench/results.json');
  if (!existsSync(file)) return {};
  try {
    const previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Section>;
    return Object.fromEntries(Object.entries(previous).filter(([name]) => name !== 'targets' && name !== 'machine' && !running.has(name)));
  } catch {
    return {};
  }
}

/** Puts the run's Markdown between the README's bench markers; false when the README has none. */
export function publishToReadme(root: string, md: string): boolean {
  const file = join(root, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) return false;
  writeFileSync(file, `${readme.slice(0, from + BEGIN.length)}\n\n${md.trim()}\n\n${readme.slice(to)}`);
  return true;
}
