// Headless Chromium for the dashboard's browser tests, driven by playwright-core: Debian's
// chromium package (`apt-get install chromium`), or KEYGATE_CHROMIUM. Without a browser the tests
// are skipped with a message, unless KEYGATE_REQUIRE_BROWSER=1 (CI sets it) makes that a failure.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';

export const CHROMIUM = process.env.KEYGATE_CHROMIUM ?? '/usr/bin/chromium';
export const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && process.env.KEYGATE_REQUIRE_BROWSER === '1') {
  throw new Error(`KEYGATE_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}: apt-get install chromium`);
}
if (browserMissing) console.warn(`dashboard browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set KEYGATE_CHROMIUM)`);

/** Chromium as the machines here run it: no sandbox (root), no GPU, no calls to Google's hosts. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Builds the dashboard from src/dashboard into a fresh directory, so the test runs today's code. */
export async function buildDashboard(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'keygate-dashboard-'));
  await build({ configFile: 'src/dashboard/vite.config.ts', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** Where the tests put their screenshots (not committed). */
export function screenshotDir(): string {
  const dir = join(process.cwd(), 'test-results', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Where the README's screenshots go: docs/ with KEYGATE_README_SHOTS=1, else beside the other
 *  screenshots, so a test run leaves the checkout clean. */
export function readmeShotDir(): string {
  if (process.env.KEYGATE_README_SHOTS !== '1') return screenshotDir();
  const dir = join(process.cwd(), 'docs');
  mkdirSync(dir, { recursive: true });
  return dir;
}
