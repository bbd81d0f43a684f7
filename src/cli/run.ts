// What every command shares: the configuration (flags over variables), expected failures printed
// as one line, and the --json switch. Nothing heavy is imported at the top.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Config } from '../config/config.ts';
import type { Api } from './api.ts';
import { asCliError } from './errors.ts';

export { CliError } from './errors.ts';

/** The configuration from the environment, with the given variables overridden (flags win). */
export async function loadCliConfig(overrides: Record<string, string | undefined> = {}): Promise<Config> {
  const { loadConfig } = await import('../config/config.ts');
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  try {
    return loadConfig({ ...process.env, ...defined });
  } catch (error) {
    throw asCliError(error);
  }
}

/** Wraps an action so expected failures become CliErrors (main prints them). */
export function action<Args extends unknown[]>(run: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
  return async (...args) => {
    try {
      await run(...args);
    } catch (error) {
      throw asCliError(error);
    }
  };
}

export function parsePort(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return value;
}

/** Runs a management command against the API this configuration names. */
export function withApi<Args extends unknown[]>(run: (api: Api, ...args: Args) => Promise<void>) {
  return action(async (...args: Args) => {
    const config = await loadCliConfig();
    const { connectApi } = await import('./api.ts');
    await run(await connectApi(config), ...args);
  });
}

/** How a command prints its result: --json (scripts), -q (the one value a script captures), or for people. */
export interface Output {
  json?: boolean;
  quiet?: boolean;
}

export const quiet = (command: Command, what: string) => command.option('-q, --quiet', `print only ${what}`);

/** The --json switch of commands that print results. */
export function withJson(command: Command): Command {
  return command.option('--json', 'print the result as JSON (for scripts)');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const cell = (row: object, key: string) => (row as Record<string, unknown>)[key];

/** Rows as aligned columns under a header. */
export function printTable<Row extends object>(rows: Row[], columns: [key: string, header: string][]): void {
  const text = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : String(v));
  const widths = columns.map(([key, header]) => Math.max(header.length, ...rows.map((row) => text(cell(row, key)).length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${line(columns.map(([, header]) => header))}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map(([key]) => text(cell(row, key))))}\n`);
}
