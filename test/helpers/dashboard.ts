// For a dashboard browser-test file: the dashboard built from today's code, a keygate serving it
// on a fresh database, a mock model server and Chromium; contexts whose page errors fail the test;
// signing in; and axe-core injected into a page.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { buildDashboard, launchChromium, screenshotDir } from './browser.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from './keygate.ts';
import { createTestDatabase, type TestDatabase } from './services.ts';

export interface DashboardHarness {
  kg: TestKeygate;
  db: TestDatabase;
  upstream: MockUpstream;
  browser: Browser;
  /** http://127.0.0.1:PORT of the control plane (the dashboard's origin) */
  base: string;
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  signedIn(context: BrowserContext, path?: string, token?: string): Promise<Page>;
  shot(page: Page, name: string, fullPage?: boolean): Promise<unknown>;
}

export function useDashboard(): DashboardHarness {
  const h = {} as DashboardHarness;
  let dashboardDir: string;
  const pageErrors: string[] = [];
  const shots = screenshotDir();

  beforeAll(async () => {
    dashboardDir = await buildDashboard();
    h.upstream = createMockUpstream();
    await h.upstream.start();
    h.db = await createTestDatabase();
    h.kg = await startTestKeygate({ env: { DATABASE_URL: h.db.url, KEYGATE_PUBLIC_PORT: '8080' }, tuning: { dashboardDir } });
    h.base = h.kg.url.replace(/\/graphql$/, '');
    h.browser = await launchChromium();
  });
  afterAll(async () => {
    await h.browser?.close();
    await h.kg?.stop();
    await h.db?.drop();
    await h.upstream?.stop();
    if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  h.newContext = async (options = {}) => {
    const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    context.setDefaultTimeout(10_000);
    context.on('weberror', (error) => pageErrors.push(error.error().message));
    context.on('console', (message) => {
      // The browser reports every 401 as a console error; the wrong-token test causes one on purpose.
      if (message.type() === 'error' && !message.text().includes('status of 401')) pageErrors.push(message.text());
    });
    return context;
  };
  h.signedIn = async (context, path = '/', token = ADMIN_TOKEN) => {
    const page = await context.newPage();
    await page.goto(h.base + path);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };
  h.shot = (page, name, fullPage = true) => page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  return h;
}

const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: number;
}

/** axe-core's violations on the page as it is (the context must bypass CSP: axe is injected inline). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: unknown[] }[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
}
