// Every page of the dashboard at desktop (1280×800) and phone (390×844) width: nothing scrolls the
// page sideways, the dialogs' buttons can be tapped, and axe-core finds no serious or critical
// violation (results printed per page). Writes the README's screenshots to docs/.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, readmeShotDir } from '../helpers/browser.ts';
import { type AxeViolation, axeViolations, useDashboard } from '../helpers/dashboard.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';

const SET_LIMIT = 'mutation($input: UpdateApiKeyInput!) { updateApiKey(input: $input) { apiKey { id } } }';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

describe.skipIf(browserMissing)('dashboard layout and accessibility', { timeout: 180_000 }, () => {
  const t = useDashboard();
  let pages: [string, string][];

  beforeAll(async () => {
    const project = await createProject(t.kg, 'acme');
    const web = await createKey(t.kg, project.id, 'web-shop', {
      description: 'The customer-facing web shop: checkout, search and recommendations, called from the storefront servers in two regions. '.repeat(2).trim(),
    });
    const mobile = await createKey(t.kg, project.id, 'mobile-app', { expiresAt: new Date(Date.now() + 90 * 86_400_000).toISOString() });
    // the key page shows its rate limit's use (docs/api.md, "Rate limits")
    const limited = await t.kg.gql(SET_LIMIT, { input: { id: web.apiKey.id, rateLimit: { requestsPerMinute: 600, tokensPerMinute: 200_000 } } });
    expect(limited.errors).toBeUndefined();
    await createKey(t.kg, project.id, 'old-batch-job', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    await sql.query(`UPDATE api_keys SET expires_at = now() - interval '1 day' WHERE name = 'old-batch-job'`);
    await sql.query(`UPDATE api_keys SET last_used_at = now() - interval '3 minutes' WHERE name = 'web-shop'`);
    await sql.end();
    const demo = await createDeployment(t.kg, project.id, 'llama-chat-production', {
      upstreamUrl: `http://127.0.0.1:${t.upstream.port}`,
      authEnabled: true,
      apiKeyIds: [web.apiKey.id, mobile.apiKey.id],
    });
    await createDeployment(t.kg, project.id, 'embeddings', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}` });
    pages = [
      ['projects', '/'],
      ['keys', '/projects/acme/keys'],
      ['deployments', '/projects/acme/deployments'],
      ['deployment overview', `/projects/acme/deployments/${demo.id}`],
      ['deployment api keys', `/projects/acme/deployments/${demo.id}/api-keys`],
      ['deployment usage', `/projects/acme/deployments/${demo.id}/usage`],
      ['usage', '/projects/acme/usage'],
      ['key', `/projects/acme/keys/${web.apiKey.id}`],
      ['activity', '/projects/acme/activity'],
    ];
  });

  const noSideScroll = (page: Page) => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth }));

  async function open(page: Page, path: string) {
    await page.goto(t.base + path);
    await page.locator('main h1').waitFor();
    if (path === '/') await page.locator('main table').waitFor();
    else await page.locator('.live.live').waitFor(); // project pages: loaded and following
    if (/usage|keys\//.test(path)) await page.locator('.usage-chart canvas').first().waitFor(); // usage views: charts drawn
    if (/keys\//.test(path)) await page.locator('[data-limit-use="requests"]').waitFor(); // the key page: its rate limit's use
  }

  it('at 390×844 no page scrolls sideways and every dialog button can be tapped', async () => {
    const context = await t.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(t.base);
    expect(await noSideScroll(page)).toMatchObject({ scrollWidth: PHONE.width });
    await page.getByLabel('Access token').fill('test-admin-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor(); // the token is kept: a navigation now stays signed in
    for (const [name, path] of pages) {
      await open(page, path);
      const { scrollWidth, innerWidth } = await noSideScroll(page);
      expect({ name, fits: scrollWidth <= innerWidth, scrollWidth }).toEqual({ name, fits: true, scrollWidth: innerWidth });
    }
    // Create a key: the dialog fits, Create and "I have copied it" can be tapped
    await open(page, '/projects/acme/keys');
    await page.getByRole('button', { name: 'Create API key' }).first().tap();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('phone-key');
    await dialog.getByRole('radio', { name: 'On' }).tap();
    await dialog.getByRole('button', { name: 'Create' }).tap();
    await dialog.getByRole('alert').getByText('Pick a date, or choose Never.').waitFor();
    const nextWeek = new Date(Date.now() + 7 * 86_400_000);
    await dialog.getByLabel('Expiry date').fill(nextWeek.toLocaleDateString('en-CA')); // YYYY-MM-DD, this machine's zone
    await dialog.getByRole('button', { name: 'Create' }).tap();
    await dialog.locator('[data-secret]').waitFor();
    expect(await noSideScroll(page)).toMatchObject({ scrollWidth: PHONE.width });
    const box = (await dialog.boundingBox())!;
    expect(box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
    await t.shot(page, 'phone-secret', false);
    await page.getByRole('button', { name: 'I have copied it' }).tap();
    await page.locator('tr[data-key="phone-key"]').waitFor();
    // Edit it, and delete it: Save, Cancel and Delete can be tapped
    await page.getByRole('button', { name: 'Edit phone-key' }).tap();
    await dialog.getByLabel('Description (optional)').fill('edited on a phone');
    await dialog.getByRole('button', { name: 'Save' }).tap();
    await page.locator('tr[data-key="phone-key"]').getByText('edited on a phone').waitFor();
    await page.getByRole('button', { name: 'Delete phone-key' }).tap();
    await dialog.getByRole('button', { name: 'Delete key' }).tap();
    await page.locator('tr[data-key="phone-key"]').waitFor({ state: 'detached' });
    // Create deployment and edit deployment dialogs
    await open(page, '/projects/acme/deployments');
    await page.getByRole('button', { name: 'Create deployment' }).tap();
    await dialog.getByRole('button', { name: 'Cancel' }).tap();
    await open(page, pages[3]![1]);
    await page.getByRole('button', { name: 'Edit model and upstream' }).tap();
    await dialog.getByRole('button', { name: 'Save' }).tap();
    await dialog.waitFor({ state: 'detached' });
    await context.close();
  });

  it('axe-core finds no serious or critical violation on any page at 1280 and 390 px', async () => {
    const results: { page: string; width: number; serious: AxeViolation[]; other: AxeViolation[] }[] = [];
    for (const viewport of [DESKTOP, PHONE]) {
      // axe is injected as an inline script, which the dashboard's CSP forbids: bypass it for this check only
      const context = await t.newContext({ viewport, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(t.base);
      await page.getByLabel('Access token').waitFor();
      const check = async (name: string) => {
        const violations = await axeViolations(page);
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        results.push({ page: name, width: viewport.width, serious, other: violations.filter((v) => !serious.includes(v)) });
      };
      await check('sign-in');
      await page.getByLabel('Access token').fill('test-admin-token-0123456789');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      for (const [name, path] of pages) {
        await open(page, path);
        await check(name);
      }
      await open(page, '/projects/acme/keys');
      await page.getByRole('button', { name: 'Create API key' }).first().click();
      await page.getByRole('dialog').getByLabel('Name').waitFor();
      await check('create key dialog');
      await page.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('button', { name: 'Rotate web-shop' }).click();
      await page.getByRole('dialog').getByRole('radio', { name: '1 hour' }).waitFor();
      await check('rotate key dialog');
      await context.close();
    }
    for (const r of results) {
      const list = (vs: AxeViolation[]) => (vs.length ? vs.map((v) => `${v.id} (${v.impact}, ${v.nodes})`).join(', ') : 'none');
      console.log(`axe ${r.width}px ${r.page}: serious/critical ${list(r.serious)}; other ${list(r.other)}`);
    }
    expect(results.flatMap((r) => r.serious.map((v) => `${r.width}px ${r.page}: ${v.id}`))).toEqual([]);
  });

  it('writes the README screenshots (desktop and phone) to docs/', async () => {
    const docs = readmeShotDir();
    for (const [viewport, suffix] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ] as const) {
      const context = await t.newContext({ viewport, colorScheme: 'light' });
      const page = await t.signedIn(context, '/projects/acme/keys');
      await page.locator('tr[data-key="web-shop"]').waitFor();
      await page.locator('.live.live').waitFor();
      await page.screenshot({ path: join(docs, `dashboard-keys-${suffix}.png`), fullPage: suffix === 'phone' });
      await open(page, pages[4]![1]);
      await page.screenshot({ path: join(docs, `dashboard-deployment-${suffix}.png`), fullPage: suffix === 'phone' });
      await context.close();
    }
  });
});
