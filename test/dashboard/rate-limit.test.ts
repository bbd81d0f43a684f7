// The dashboard's rate limits (docs/api.md, "Rate limits") in Chromium against a real keygate on
// Postgres with its proxy: a limit set in the create dialog shows on the keys list; requests past it
// get 429 and the key's page shows the window's use against the limit; clearing the limit in the
// edit dialog removes it (the list shows none, the next request passes); a bad value shows the
// field's error.
import { describe, expect, it } from 'vitest';
import { browserMissing } from '../helpers/browser.ts';
import { useDashboard } from '../helpers/dashboard.ts';
import { statusThroughProxy } from '../helpers/proxy-call.ts';
import { createDeployment, createProject } from '../helpers/fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEY_ID = 'query($slug: String!) { project(slug: $slug) { apiKeys(first: 5) { edges { node { id name } } } } }';

describe.skipIf(browserMissing)('dashboard rate limits', { timeout: 180_000 }, () => {
  const t = useDashboard();

  /** The status of a chat completion through the proxy with `secret` (path form). */
  const statusWith = (slug: string, deployment: string, secret: string) => statusThroughProxy(t.kg, slug, deployment, secret);

  it('sets 5 rpm in the create dialog, shows the use on the key page, and clears it in the edit dialog', async () => {
    const project = await createProject(t.kg, 'limited');
    const context = await t.newContext({ locale: 'en-US' });
    const page = await t.signedIn(context, '/projects/limited/keys');
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('capped-key');

    // a bad value: the field's own error, in the form's words
    await dialog.getByLabel('Requests per minute').fill('0');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const error = dialog.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toBe('Requests per minute must be at least 1.');
    expect(await dialog.getByLabel('Requests per minute').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByLabel('Tokens per minute').fill('lots');
    await dialog.getByLabel('Requests per minute').fill('5');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('alert').getByText('Enter a whole number, or leave it empty for no limit.').waitFor();
    await dialog.getByLabel('Tokens per minute').fill('');

    await dialog.getByRole('button', { name: 'Create' }).click();
    const secret = (await dialog.locator('[data-secret]').textContent())!.trim();
    await page.keyboard.press('Escape');
    await dialog.getByRole('button', { name: 'Close without copying' }).click();
    const limitCell = page.locator('tr[data-key="capped-key"] td[data-label="Rate limit"]');
    await expect.poll(() => limitCell.textContent()).toBe('5 rpm');

    const found = await t.kg.gql(KEY_ID, { slug: 'limited' });
    const keyId = (found.data as { project: { apiKeys: { edges: { node: { id: string } }[] } } }).project.apiKeys.edges[0]!.node.id;
    await createDeployment(t.kg, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds: [keyId] });

    // 7 requests: 5 admitted, the rest refused
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push(await statusWith('limited', 'chat', secret));
    // the first may precede the link reaching the proxy (401): try again until the window holds 5
    for (let tries = 0; statuses.filter((s) => s === 200).length < 5 && tries < 20; tries++) {
      await sleep(200);
      statuses.push(await statusWith('limited', 'chat', secret));
    }
    expect(statuses.filter((s) => s === 200).length).toBe(5);
    expect(await statusWith('limited', 'chat', secret)).toBe(429);

    await page.goto(`${t.base}/projects/limited/keys/${encodeURIComponent(keyId)}`);
    await page.getByRole('heading', { name: 'capped-key' }).waitFor();
    const requests = page.locator('[data-limit-use="requests"] [data-used]');
    await expect.poll(() => requests.textContent(), { timeout: 10_000 }).toBe('5 / 5');
    expect(await page.locator('[data-limit-use="tokens"]').count()).toBe(0);
    expect(await page.locator('[data-resets]').textContent()).toMatch(/Resets in \d+ s/);

    // clear it in the edit dialog: no limit on the list, and the next request passes
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.getByRole('button', { name: 'Edit capped-key' }).click();
    expect(await dialog.getByLabel('Requests per minute').inputValue()).toBe('5');
    await dialog.getByLabel('Requests per minute').fill('');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => limitCell.textContent()).toBe('—');
    await expect.poll(() => statusWith('limited', 'chat', secret), { timeout: 10_000 }).toBe(200);

    // the key's page says so
    await page.goto(`${t.base}/projects/limited/keys/${encodeURIComponent(keyId)}`);
    await page.locator('[data-rate-limit="none"]').waitFor();
    await context.close();
  });
});
