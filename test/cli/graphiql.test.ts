// GraphiQL is served from the package: in Chromium with every request not to keygate blocked (as
// behind a firewall with no Internet), /graphql loads the editor and runs a query.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launchChromium } from '../helpers/browser.ts';
import { ADMIN_TOKEN, useKeygate } from '../helpers/keygate.ts';

describe.skipIf(browserMissing)('GraphiQL offline', { timeout: 120_000 }, () => {
  const env = useKeygate();
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('loads from keygate alone and runs a query', async () => {
    const origin = new URL(env.kg.url).origin;
    const page = await browser.newPage();
    const blocked: string[] = [];
    const served: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin !== origin) {
        blocked.push(url);
        await route.abort('internetdisconnected');
        return;
      }
      served.push(url);
      // The token GraphiQL's header editor would hold.
      await route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${ADMIN_TOKEN}` } });
    });

    const query = '{ viewer { role tokenName } }';
    const response = await page.goto(`${env.kg.url}?query=${encodeURIComponent(query)}`);
    expect(response?.status()).toBe(200);
    const html = await response!.text();
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:\/\//i);

    await page.locator('.graphiql-execute-button').click({ timeout: 60_000 });
    const result = page.locator('.graphiql-response');
    await expect.poll(async () => result.innerText(), { timeout: 30_000 }).toContain('"tokenName"');
    expect(await result.innerText()).toContain('"ADMIN"');
    expect(blocked).toEqual([]);
    expect(served.some((url) => url.startsWith(env.kg.url))).toBe(true);
    await page.close();
  });
});
