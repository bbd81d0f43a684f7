// The dashboard's key lifecycle views (docs/api.md, "Key lifecycle") in Chromium against a real
// keygate on Postgres with its proxy: rotating a key with a 1-hour overlap from the key's page (the
// new secret shown once, the previous prefix with its end time; both secrets get 200 through the
// proxy), the Activity view following link, unlink and rotate live with their actor and type and
// narrowed by its filters, and an expiring key's "expires in …" with its deployment's warning.
import { describe, expect, it } from 'vitest';
import { browserMissing } from '../helpers/browser.ts';
import { useDashboard } from '../helpers/dashboard.ts';
import { statusThroughProxy } from '../helpers/proxy-call.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';
import { LinkApiKey, UnlinkApiKey, ViewerQuery } from '../helpers/operations.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROTATE = 'mutation($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { apiKey { id } propagation { confirmed } } }';

describe.skipIf(browserMissing)('dashboard key lifecycle', { timeout: 180_000 }, () => {
  const t = useDashboard();

  /** The status of a chat completion through the proxy with `secret` (path form). */
  const statusWith = (slug: string, deployment: string, secret: string) => statusThroughProxy(t.kg, slug, deployment, secret);
  /** Waits (a few seconds at most) until the proxy answers `status` for `secret`. */
  const eventually = async (slug: string, deployment: string, secret: string, status: number) => {
    const end = Date.now() + 10_000;
    for (;;) {
      const seen = await statusWith(slug, deployment, secret);
      if (seen === status || Date.now() > end) return expect(seen).toBe(status);
      await sleep(200);
    }
  };

  it('rotates a key with a 1-hour overlap: the new secret once, the old prefix with its end, both secrets work', async () => {
    const project = await createProject(t.kg, 'rotating');
    const key = await createKey(t.kg, project.id, 'svc-key');
    await createDeployment(t.kg, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds: [key.apiKey.id] });
    await eventually('rotating', 'chat', key.secret, 200);

    const context = await t.newContext({ timezoneId: 'Asia/Tokyo', locale: 'en-US' });
    const page = await t.signedIn(context, `/projects/rotating/keys/${encodeURIComponent(key.apiKey.id)}`);
    await page.getByRole('heading', { name: 'svc-key' }).waitFor();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('radio', { name: '1 hour' }).check();
    await dialog.getByRole('button', { name: 'Rotate' }).click();
    const secret = (await dialog.locator('[data-secret]').textContent())!.trim();
    expect(secret.length).toBeGreaterThan(20);
    expect(secret).not.toBe(key.secret);
    // Escape asks first: the secret was not copied with its button.
    await page.keyboard.press('Escape');
    await dialog.getByRole('alertdialog', { name: 'Close without copying?' }).waitFor();
    await dialog.getByRole('button', { name: 'Close without copying' }).click();
    await dialog.waitFor({ state: 'detached' });

    const previous = page.locator(`[data-previous-prefix="${key.apiKey.prefix}"]`);
    await previous.waitFor();
    const text = (await previous.textContent())!;
    expect(text).toContain(`${key.apiKey.prefix}…`);
    expect(text).toMatch(/works until .*\(in (59|60) minutes|in 1 hour\)/);
    // its end in the viewer's zone (Tokyo)
    const end = await previous.locator('time').getAttribute('datetime');
    const inTokyo = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Tokyo' }).format(new Date(end!));
    expect(text).toContain(inTokyo);
    expect(Math.abs(new Date(end!).getTime() - (Date.now() + 3_600_000))).toBeLessThan(60_000);

    expect(await statusWith('rotating', 'chat', key.secret)).toBe(200);
    expect(await statusWith('rotating', 'chat', secret)).toBe(200);

    // the keys list shows it too
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.locator('tr[data-key="svc-key"] [data-previous-prefix]').waitFor();
    await context.close();
  });

  it('Activity shows link, unlink and rotate live with actor and type; the filters narrow them', async () => {
    const project = await createProject(t.kg, 'audited');
    const alpha = await createKey(t.kg, project.id, 'alpha-key');
    const beta = await createKey(t.kg, project.id, 'beta-key');
    const chat = await createDeployment(t.kg, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}` });
    const embed = await createDeployment(t.kg, project.id, 'embed', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}` });
    const actor = (await t.kg.gql(ViewerQuery, {})).data!.viewer.tokenName;

    const context = await t.newContext({ locale: 'en-US' });
    const page = await t.signedIn(context, '/projects/audited/activity');
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await page.locator('.live.live').waitFor();
    await page.locator('li[data-event="DEPLOYMENT_CREATED"]').nth(1).waitFor();
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    const must = async (r: Promise<{ errors?: unknown }>) => expect((await r).errors).toBeUndefined();
    await must(t.kg.gql(LinkApiKey, { input: { apiKeyId: alpha.apiKey.id, deploymentId: chat.id } }));
    await must(t.kg.gql(LinkApiKey, { input: { apiKeyId: beta.apiKey.id, deploymentId: embed.id } }));
    await must(t.kg.gql(UnlinkApiKey, { input: { apiKeyId: alpha.apiKey.id, deploymentId: chat.id } }));
    await must(t.kg.gql(ROTATE, { input: { id: beta.apiKey.id, overlapSeconds: 0 } }));

    const rotated = page.locator('li[data-event="API_KEY_ROTATED"]');
    await rotated.waitFor();
    expect(await rotated.locator('.what').textContent()).toBe('Key rotated: rotated the secret of key beta-key');
    expect(await rotated.locator('.who').textContent()).toBe(`by ${actor}`);
    expect(await rotated.locator('time').textContent()).toMatch(/^now|seconds? ago/);
    await page.locator('li[data-event="API_KEY_UNLINKED"]').getByText('unlinked key alpha-key from deployment chat').waitFor();
    expect(await page.locator('li[data-event="API_KEY_LINKED"]').count()).toBe(2);
    // newest first
    const order = await page.locator('ol.activity li').evaluateAll((items) => items.map((i) => i.getAttribute('data-event')));
    expect(order.slice(0, 4)).toEqual(['API_KEY_ROTATED', 'API_KEY_UNLINKED', 'API_KEY_LINKED', 'API_KEY_LINKED']);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // by type
    await page.getByLabel('Filter by type').selectOption({ label: 'Key linked' });
    await expect.poll(() => page.locator('ol.activity li').evaluateAll((items) => items.map((i) => i.getAttribute('data-event')))).toEqual(['API_KEY_LINKED', 'API_KEY_LINKED']);
    // and by key: alpha's link only
    await page.getByLabel('Filter by key').selectOption({ label: 'alpha-key' });
    await expect.poll(() => page.locator('ol.activity li .what').allTextContents()).toEqual(['Key linked: linked key alpha-key to deployment chat']);
    // by deployment alone: embed's link, and a later change to it appears live within the filter
    await page.getByLabel('Filter by type').selectOption({ label: 'All changes' });
    await page.getByLabel('Filter by key').selectOption({ label: 'All keys' });
    await page.getByLabel('Filter by deployment').selectOption({ label: 'embed' });
    await expect.poll(() => page.locator('ol.activity li').evaluateAll((items) => items.map((i) => i.getAttribute('data-event')))).toEqual(['API_KEY_LINKED', 'DEPLOYMENT_CREATED']);
    await must(t.kg.gql(UnlinkApiKey, { input: { apiKeyId: beta.apiKey.id, deploymentId: embed.id } }));
    await expect.poll(() => page.locator('ol.activity li').evaluateAll((items) => items.map((i) => i.getAttribute('data-event')))).toEqual(['API_KEY_UNLINKED', 'API_KEY_LINKED', 'DEPLOYMENT_CREATED']);
    await context.close();
  });

  it('pages the Activity view with "Show more"', async () => {
    const project = await createProject(t.kg, 'busy');
    for (let i = 0; i < 30; i++) await createKey(t.kg, project.id, `key-${String(i).padStart(2, '0')}`);
    const context = await t.newContext({ locale: 'en-US', viewport: { width: 1280, height: 400 } });
    const page = await t.signedIn(context, '/projects/busy/activity');
    await page.locator('ol.activity li').first().waitFor();
    expect(await page.locator('[data-total]').textContent()).toBe('30 changes');
    expect(await page.locator('ol.activity li').count()).toBe(25);
    await page.getByRole('button', { name: 'Show more (25 of 30 shown)' }).click();
    await page.locator('ol.activity li').nth(29).waitFor();
    expect(await page.locator('ol.activity li').count()).toBe(30);
    expect(await page.locator('ol.activity li .what').last().textContent()).toBe('Key created: created key key-00');
    await context.close();
  });

  it('an expiring key reads "expires in 2 days" and its deployments warn', async () => {
    const project = await createProject(t.kg, 'expiring');
    const soon = await createKey(t.kg, project.id, 'soon-key', { expiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    const later = await createKey(t.kg, project.id, 'later-key', { expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() });
    const chat = await createDeployment(t.kg, project.id, 'chat', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds: [soon.apiKey.id] });
    await createDeployment(t.kg, project.id, 'other', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds: [later.apiKey.id] });

    const context = await t.newContext({ locale: 'en-US' });
    const page = await t.signedIn(context, '/projects/expiring/keys');
    const expires = page.locator('tr[data-key="soon-key"] td[data-label="Expires"]');
    await expires.waitFor();
    expect(await expires.textContent()).toMatch(/^expires in 2 days \(\w{3} \d+, \d{4}\)$/);
    expect(await expires.getAttribute('class')).toBe('expiring');
    expect(await page.locator('tr[data-key="later-key"] td[data-label="Expires"]').getAttribute('class')).toBeNull();

    await page.getByRole('link', { name: 'Deployments' }).click();
    const warning = page.locator('tr[data-deployment="chat"] [data-expiring-warning]');
    await warning.waitFor();
    expect(await warning.textContent()).toContain('soon-key expires in 2 days');
    expect(await page.locator('tr[data-deployment="other"] [data-expiring-warning]').count()).toBe(0);

    await page.goto(`${t.base}/projects/expiring/deployments/${chat.id}`);
    await page.locator('main [data-expiring-warning]').getByText('soon-key expires in 2 days', { exact: false }).waitFor();
    await page.goto(`${t.base}/projects/expiring/keys/${soon.apiKey.id}`);
    await page.locator('[data-expiring]').getByText('expires in 2 days', { exact: false }).waitFor();
    await context.close();
  });
});
