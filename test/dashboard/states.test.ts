// The dashboard tells the truth and keeps the user's place: the badge of a deployment whose keys
// all expired, expired keys not offered for linking, the secret dialog asking before it closes and
// focusing the secret, focus returning to what opened each dialog and moving to the heading after
// sign-in, a wrong token refused at the field alone, one session per browser, dates in the user's
// time zone (Honolulu), friendly field errors, editing, page titles, and compressed assets.
import { request as httpGet } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { browserMissing } from '../helpers/browser.ts';
import { useDashboard } from '../helpers/dashboard.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';

/** Where focus lands: a dialog's removal leaves it on <body> for a moment before it goes back to
 *  the opener, so this waits (bounded) until focus is somewhere other than <body>. */
const focused = async (page: Page) => {
  await page.waitForFunction(() => document.activeElement !== null && document.activeElement !== document.body, undefined, { timeout: 5000 }).catch(() => {});
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return { tag: el?.tagName.toLowerCase(), text: el?.textContent?.trim(), label: el?.getAttribute('aria-label'), secret: el?.hasAttribute('data-secret') };
  });
};

/** A GET with the given Accept-Encoding, answered as raw bytes (no client-side decoding). */
function rawGet(url: string, acceptEncoding?: string): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(browserMissing)('dashboard states, focus and time', { timeout: 180_000 }, () => {
  const t = useDashboard();

  it('refuses a wrong token at the field only, focuses the heading after sign-in, and keeps one session per browser', async () => {
    const context = await t.newContext();
    const page = await context.newPage();
    await page.goto(t.base);
    expect(await page.title()).toBe('Sign in · keygate');
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('keygate does not accept this token').waitFor();
    expect(await page.getByText('no longer accepted').count()).toBe(0);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);

    await page.getByLabel('Access token').fill('test-admin-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
    expect(await page.title()).toBe('Projects · keygate');

    // another tab of the same browser is signed in, and signing out there signs out here
    const other = await context.newPage();
    await other.goto(t.base);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Access token').waitFor();
    await page.getByText('You signed out in another tab.').waitFor();
    await context.close();
  });

  it('says "On — all linked keys expired" and never offers an expired key for linking', async () => {
    const project = await createProject(t.kg, 'expiring');
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    const linked = await createKey(t.kg, project.id, 'linked-key', { expiresAt: soon });
    await createKey(t.kg, project.id, 'spare-key', { expiresAt: soon });
    const deployment = await createDeployment(t.kg, project.id, 'chat', { authEnabled: true, apiKeyIds: [linked.apiKey.id] });
    const context = await t.newContext();
    const page = await t.signedIn(context, `/projects/expiring/deployments/${deployment.id}/api-keys`);
    await page.locator('.badge.on').getByText('On', { exact: true }).waitFor();

    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    await sql.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE name IN ('linked-key', 'spare-key')`);
    await sql.end();
    await page.reload();
    await page.getByText('On — all linked keys expired').waitFor();
    expect(await page.title()).toBe('chat (API Keys) · expiring · keygate');
    // the expired, unlinked key is marked and cannot be ticked; the linked one can be unticked
    const spare = page.getByRole('checkbox', { name: /spare-key/ });
    expect(await spare.isDisabled()).toBe(true);
    await page.getByText('Expired: cannot be linked').waitFor();
    await page.getByText('Expired: opens nothing').waitFor();
    expect(await page.getByRole('checkbox', { name: /linked-key/ }).isEnabled()).toBe(true);
    await page.goto(`${t.base}/projects/expiring/deployments`);
    await page.locator('tr[data-deployment="chat"]').getByText('On — all linked keys expired').waitFor();
    await context.close();
  });

  it('focuses the secret, asks before closing it unless copied, and returns focus to each opener', async () => {
    await createProject(t.kg, 'secrets');
    const context = await t.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.base });
    const page = await t.signedIn(context, '/projects/secrets/keys');
    await page.getByText('No API keys yet').waitFor();
    // the page settles (its live connection up, which may re-render it) before focus is placed
    await page.locator('span.live[role="status"]', { hasText: /^Live$/ }).waitFor();
    const opener = page.getByRole('button', { name: 'Create API key' }).first();
    await opener.focus();
    await page.waitForFunction(() => document.activeElement?.textContent?.trim() === 'Create API key');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('first-key');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.locator('[data-secret]').waitFor();
    await page.waitForFunction(() => document.activeElement?.hasAttribute('data-secret'));
    expect(await page.evaluate(() => getSelection()?.toString())).toMatch(/^kg_/); // selected, ready for Ctrl+C

    // Escape and × ask first; "Keep it open" keeps it
    await page.keyboard.press('Escape');
    await dialog.getByText('Once this closes, nobody can see it again').waitFor();
    await page.waitForFunction(() => document.activeElement?.textContent === 'Keep it open');
    await dialog.getByRole('button', { name: 'Keep it open' }).click();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog.getByRole('button', { name: 'Close without copying' }).waitFor();
    await dialog.getByRole('button', { name: 'Keep it open' }).click();
    // once copied with the button, Escape closes at once, and focus is back on the opener
    const secret = (await dialog.locator('[data-secret]').textContent())!.trim();
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied', exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Create API key' });
    await page.locator('tr[data-key="first-key"]').waitFor();
    // the row settles (its usage cell filled) before a dialog is opened from it
    await page.locator('tr[data-key="first-key"] td', { hasText: /^0\s*requests by first-key/ }).waitFor();

    // the edit and delete dialogs give focus back to their buttons too
    await page.getByRole('button', { name: 'Edit first-key' }).click();
    await dialog.getByLabel('Name').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toMatchObject({ label: 'Edit first-key' });
    await page.getByRole('button', { name: 'Delete first-key' }).click();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toMatchObject({ label: 'Delete first-key' });
    await context.close();
  });

  it("offers today as the earliest expiry in the user's time zone and shows dates in it (Pacific/Honolulu)", async () => {
    await createProject(t.kg, 'honolulu');
    // 23:31 in Honolulu on the server's UTC date D is already D+1 in UTC: the old page refused D.
    const today = new Date().toISOString().slice(0, 10);
    const lateEvening = new Date(`${today}T23:31:00-10:00`);
    const context = await t.newContext({ timezoneId: 'Pacific/Honolulu', locale: 'en-US' });
    const page = await context.newPage();
    await page.clock.setFixedTime(lateEvening);
    await page.goto(t.base + '/projects/honolulu/keys');
    await page.getByLabel('Access token').fill('test-admin-token-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No API keys yet').waitFor();
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByLabel('Expiry date').getAttribute('min')).toBe(today);
    await dialog.getByLabel('Name').fill('island-key');
    await dialog.getByLabel('Expiry date').fill(today);
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    const expected = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${today}T12:00:00Z`));
    const row = page.locator('tr[data-key="island-key"]');
    await row.getByText(expected).waitFor();
    // it expires at the end of that day in Honolulu: 09:59:59 UTC the next day
    const stored = await t.kg.gql('{ project(slug: "honolulu") { apiKeys { edges { node { expiresAt } } } } }');
    expect(stored.data!.project.apiKeys.edges[0].node.expiresAt).toBe(new Date(`${today}T23:59:59-10:00`).toISOString());
    await context.close();
  });

  it('edits a key and a deployment, with friendly field errors that go once the field is edited', async () => {
    const project = await createProject(t.kg, 'editing');
    await createKey(t.kg, project.id, 'old-name');
    const deployment = await createDeployment(t.kg, project.id, 'chat');
    const context = await t.newContext();
    const page = await t.signedIn(context, '/projects/editing/keys');
    await page.getByRole('button', { name: 'Edit old-name' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('ab');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('alert').getByText('Name must be at least 4 characters.').waitFor();
    await dialog.getByLabel('Name').fill('new-name');
    expect(await dialog.getByRole('alert').count()).toBe(0); // the stale error is gone
    await dialog.getByLabel('Description (optional)').fill('renamed in the dashboard');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr[data-key="new-name"]').getByText('renamed in the dashboard').waitFor();

    await page.goto(`${t.base}/projects/editing/deployments/${deployment.id}`);
    await page.locator('.try-it').waitFor();
    expect(await page.getByText('http://model-chat.editing.localhost:8080').count()).toBe(1);
    await page.getByText('http://127.0.0.1:8080/editing/chat', { exact: true }).waitFor();
    // the snippets use the path form, which resolves everywhere
    expect(await page.locator('.try-it pre').textContent()).toContain('http://127.0.0.1:8080/editing/chat/v1');
    await page.getByRole('button', { name: 'Edit model and upstream' }).click();
    await dialog.getByLabel('Upstream URL').fill('ftp://example.com');
    // the browser's own check would stop ftp: submit through the form to reach the API's
    await dialog.locator('form').evaluate((form: HTMLFormElement) => form.setAttribute('novalidate', ''));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.getByText('Enter an http:// or https:// address, without a user name or password.').waitFor();
    expect(await dialog.textContent()).not.toContain('upstreamUrl');
    await dialog.getByLabel('Upstream URL').fill(`http://127.0.0.1:${t.upstream.port}`);
    await dialog.getByLabel('Model').fill('llama-3-70b');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.overview dd').getByText('llama-3-70b').waitFor();
    await context.close();
  });

  it('serves the assets pre-compressed (brotli, gzip) when accepted, and plain otherwise', async () => {
    const index = (await rawGet(`${t.base}/`)).body.toString();
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    for (const path of ['/', ...assets]) {
      const plain = await rawGet(t.base + path);
      expect(plain.headers['content-encoding']).toBeUndefined();
      const br = await rawGet(t.base + path, 'gzip, deflate, br');
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers.vary).toBe('accept-encoding');
      expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
      expect(br.body.length).toBeLessThan(plain.body.length);
      const gz = await rawGet(t.base + path, 'gzip');
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect((await rawGet(t.base + path, 'br;q=0, gzip')).headers['content-encoding']).toBe('gzip');
      if (path.endsWith('.js')) console.log(`${path}: ${plain.body.length} B plain, ${gz.body.length} B gzip, ${br.body.length} B brotli`);
    }
    // the browser gets them compressed
    const context = await t.newContext();
    const page = await context.newPage();
    const script = page.waitForResponse((r) => r.url().includes('/assets/') && r.url().endsWith('.js'));
    await page.goto(t.base);
    expect((await (await script).allHeaders())['content-encoding']).toBe('br');
    await context.close();
  });
});
