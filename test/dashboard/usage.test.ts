// The dashboard's usage views (docs/api.md, "Usage") in Chromium against a real keygate on Postgres:
// requests made with the openai SDK through the proxy to the mock model server show on the key's
// chart, and more requests update it without a reload; the keys list's usage column, the project's
// Usage view (totals, top keys and deployments) and the deployment's Usage tab show them too, in
// the viewer's time zone; on a phone in dark mode the charts fit. Writes the README's screenshot of
// the usage view (docs/usage-view.png).
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, readmeShotDir } from '../helpers/browser.ts';
import { useDashboard } from '../helpers/dashboard.ts';
import { createDeployment, createKey, createProject } from '../helpers/fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const KEY_REQUESTS = `query($id: ID!, $from: DateTime!) { node(id: $id) { ... on ApiKey { usage(from: $from) { total { requests } } } } }`;
const HONOLULU = 'Pacific/Honolulu';

describe.skipIf(browserMissing)('dashboard usage views', { timeout: 180_000 }, () => {
  const t = useDashboard();
  let keyId: string;
  let deploymentId: string;
  let client: OpenAI;

  beforeAll(async () => {
    const project = await createProject(t.kg, 'metered');
    const key = await createKey(t.kg, project.id, 'busy-key');
    keyId = key.apiKey.id;
    const deployment = await createDeployment(t.kg, project.id, 'chat', {
      upstreamUrl: `http://127.0.0.1:${t.upstream.port}`,
      authEnabled: true,
      apiKeyIds: [keyId],
    });
    deploymentId = deployment.id;
    client = new OpenAI({ baseURL: `http://127.0.0.1:${t.kg.running.proxy!.port}/metered/chat/v1`, apiKey: key.secret, maxRetries: 0 });
  });

  const chat = async (count: number) => {
    for (let i = 0; i < count; i++) await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello there' }] });
  };

  /** Waits until the API reports `requests` for the key (a flush is at most 5 s away). */
  async function recorded(requests: number) {
    const end = Date.now() + 15_000;
    for (;;) {
      const reply = await t.kg.gql(KEY_REQUESTS, { id: keyId, from: new Date(Date.now() - 3_600_000).toISOString() });
      const seen = (reply.data?.node as { usage: { total: { requests: number } } }).usage.total.requests;
      if (seen === requests || Date.now() > end) return expect(seen).toBe(requests);
      await sleep(250);
    }
  }

  const total = (page: Page, name: string) => page.locator(`[data-count="${name}"] dd`);

  it("shows a key's requests on its chart and adds new ones without a reload, in the viewer's time zone", async () => {
    await chat(3);
    await recorded(3);
    const context = await t.newContext({ timezoneId: HONOLULU, locale: 'en-US' });
    const page = await t.signedIn(context, `/projects/metered/keys/${encodeURIComponent(keyId)}`);
    await page.getByRole('heading', { name: 'busy-key' }).waitFor();
    await total(page, 'requests').getByText('3', { exact: true }).waitFor();
    const requestsChart = page.locator('[data-chart="Requests per hour"]');
    await requestsChart.locator('canvas').waitFor();
    expect(await requestsChart.getByRole('img').getAttribute('aria-label')).toContain('3 requests');
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    await chat(2);
    await total(page, 'requests').getByText('5', { exact: true }).waitFor({ timeout: 15_000 });
    await requestsChart.locator('[data-line="requests"]').getByText('5', { exact: true }).waitFor();
    expect(await requestsChart.getByRole('img').getAttribute('aria-label')).toContain('5 requests');
    expect(Number(await total(page, 'completionTokens').textContent())).toBeGreaterThan(0);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

    // Hovering the newest bucket reads its time in Honolulu's zone.
    const box = (await requestsChart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
    const readout = await requestsChart.locator('.chart-readout').textContent();
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const inHonolulu = (ms: number) => new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: HONOLULU }).format(ms);
    expect([inHonolulu(hour), inHonolulu(hour - 3_600_000)].some((s) => readout?.startsWith(s))).toBe(true);
    await t.shot(page, 'usage-key');
    await context.close();
  });

  it('shows usage on the keys list, the Usage view and the deployment Usage tab, live', async () => {
    await recorded(5);
    const context = await t.newContext();
    const page = await t.signedIn(context, '/projects/metered/keys');
    const cell = page.locator('tr[data-key="busy-key"] td.usage-count');
    await cell.getByText('5', { exact: false }).waitFor();
    expect(await cell.getAttribute('data-requests')).toBe('5');

    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    await total(page, 'requests').getByText('5', { exact: true }).waitFor();
    const topKey = page.locator('tr[data-top="busy-key"]');
    await topKey.locator('[data-label="Requests"]').getByText('5').waitFor();
    await page.locator('tr[data-top="chat"]').waitFor();

    // a refusal with a key the deployment does not know counts as rejected, live
    const refused = await fetch(`http://127.0.0.1:${t.kg.running.proxy!.port}/metered/chat/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'kg_not-a-key' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    await total(page, 'rejected').getByText('1', { exact: true }).waitFor({ timeout: 15_000 });

    await page.getByRole('combobox', { name: 'Range' }).selectOption('1h');
    await page.locator('[data-chart="Requests per minute"] canvas').waitFor();
    await total(page, 'requests').getByText('5', { exact: true }).waitFor();
    // the widest hourly range (7 days, 169 buckets per series) stays within the query cost budget
    for (const [range, per] of [
      ['7d', 'hour'],
      ['30d', 'day'],
    ]) {
      await page.getByRole('combobox', { name: 'Range' }).selectOption(range!);
      await page.locator(`[data-chart="Requests per ${per}"] canvas`).waitFor();
      await page.locator('section.usage .toolbar').getByText('Loading…').waitFor({ state: 'detached' });
      expect(await page.locator('.form-error').allInnerTexts()).toEqual([]);
      await topKey.locator('[data-label="Requests"]').getByText('5').waitFor();
    }

    await page.goto(`${t.base}/projects/metered/deployments/${encodeURIComponent(deploymentId)}/usage`);
    await page.locator('[data-chart="Tokens per hour"] canvas').waitFor();
    await total(page, 'requests').getByText('5', { exact: true }).waitFor();
    await total(page, 'rejected').getByText('1', { exact: true }).waitFor();
    await context.close();
  });

  it('writes the README screenshot of the usage view (docs/usage-view.png) from a day of recorded usage', async () => {
    const project = await createProject(t.kg, 'acme');
    const names = ['web-shop', 'mobile-app', 'batch-jobs'];
    const keys = await Promise.all(names.map((name) => createKey(t.kg, project.id, name)));
    const apiKeyIds = keys.map((k) => k.apiKey.id);
    await createDeployment(t.kg, project.id, 'llama-chat', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds });
    await createDeployment(t.kg, project.id, 'embeddings', { upstreamUrl: `http://127.0.0.1:${t.upstream.port}`, authEnabled: true, apiKeyIds });
    // A day of hourly usage, written as the flusher writes it, with a daily rhythm.
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    await sql.query(
      `INSERT INTO usage_counts (granularity, bucket_start, project_id, deployment_id, api_key_id, requests, errors, rejected, rate_limited, prompt_tokens, completion_tokens)
       SELECT 'HOUR', date_trunc('hour', now()) - h * interval '1 hour', k.project_id, d.id, k.id, r, r / 90, r / 60, r / 120, r * 180, r * 420
         FROM generate_series(0, 24) AS h
         CROSS JOIN api_keys k
         JOIN deployments d ON d.project_id = k.project_id
         CROSS JOIN LATERAL (SELECT (400 + 300 * sin(h / 3.8) + length(k.name) * 25 * (CASE WHEN d.name = 'embeddings' THEN 0.4 ELSE 1 END))::bigint AS r) AS v
        WHERE k.project_id = (SELECT id FROM projects WHERE slug = 'acme')`,
    );
    await sql.end();
    const context = await t.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await t.signedIn(context, '/projects/acme/usage');
    await page.locator('[data-chart="Tokens per hour"] canvas').waitFor();
    await page.locator('tr[data-top="web-shop"]').waitFor();
    await page.locator('.live.live').waitFor();
    await page.screenshot({ path: join(readmeShotDir(), 'usage-view.png'), fullPage: true });
    await context.close();
    // On a phone, in dark mode: the charts fit, nothing scrolls sideways.
    const phone = await t.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'dark' });
    const small = await t.signedIn(phone, '/projects/acme/usage');
    await small.locator('[data-chart="Tokens per hour"] canvas').waitFor();
    await small.locator('tr[data-top="web-shop"]').waitFor();
    const { scrollWidth, viewport, canvasWidth } = await small.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      canvasWidth: document.querySelector('.usage-chart canvas')!.getBoundingClientRect().width,
    }));
    expect(scrollWidth).toBe(viewport);
    expect(canvasWidth).toBeLessThan(viewport);
    await t.shot(small, 'usage-phone-dark');
    await phone.close();
  });
});
