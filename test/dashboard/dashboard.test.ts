// The dashboard in a real browser against a running keygate: sign in, create a project, a
// deployment and a key (its secret shown once), link the key, call the model through the proxy,
// unlink it from a second browser context, and watch the first page update live while the call
// starts getting 401. Screenshots of each page go to test-results/dashboard/.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstream, type MockUpstream } from '../../src/dev/mock-upstream.ts';
import { browserMissing, buildDashboard, launchChromium, screenshotDir } from '../helpers/browser.ts';
import { createKey, createProject } from '../helpers/fixtures.ts';
import { CreateAccessToken, DeleteAccessToken } from '../helpers/operations.ts';
import { ADMIN_TOKEN, startTestKeygate, type TestKeygate } from '../helpers/keygate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/services.ts';

describe.skipIf(browserMissing)('dashboard', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let kg: TestKeygate;
  let upstream: MockUpstream;
  let browser: Browser;
  let dashboardDir: string;
  let base: string;
  const shots = screenshotDir();

  beforeAll(async () => {
    dashboardDir = await buildDashboard();
    upstream = createMockUpstream();
    await upstream.start();
    db = await createTestDatabase();
    // endpointUrl as users would see it with the proxy on its default port
    kg = await startTestKeygate({ env: { DATABASE_URL: db.url, KEYGATE_PUBLIC_PORT: '8080' }, tuning: { dashboardDir } });
    base = kg.url.replace(/\/graphql$/, '');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await kg?.stop();
    await db?.drop();
    await upstream?.stop();
    if (dashboardDir) rmSync(dashboardDir, { recursive: true, force: true });
  });

  afterEach(async (context) => {
    const pages = openPages.splice(0);
    if (context.task.result?.state === 'fail') {
      for (const [i, page] of pages.entries()) await shot(page, `failed-${context.task.name.slice(0, 20)}-${i}`).catch(() => {});
    }
    expect(pageErrors.splice(0)).toEqual([]);
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  /** A browser context whose every wait fails fast and names what it waited for; page errors fail the test. */
  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    context.on('weberror', (error) => pageErrors.push(error.error().message));
    context.on('console', (message) => {
      // The browser reports every 401 as a console error; the wrong-token test causes one on purpose.
      if (message.type() === 'error' && !message.text().includes('status of 401')) pageErrors.push(message.text());
    });
    context.on('page', (page) => openPages.push(page));
    return context;
  }
  const pageErrors: string[] = [];
  const openPages: Page[] = [];

  async function signedIn(context: BrowserContext, path = '/', token = ADMIN_TOKEN): Promise<Page> {
    const page = await context.newPage();
    await page.goto(base + path);
    await page.getByLabel('Access token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }

  const projectNav = (page: Page, name: 'API Keys' | 'Deployments') => page.getByRole('navigation', { name: 'Project' }).getByRole('link', { name });
  const deploymentTab = (page: Page, name: 'Overview' | 'API Keys') => page.getByRole('navigation', { name: 'Deployment' }).getByRole('link', { name });

  const callModel = (secret: string) =>
    fetch(`http://127.0.0.1:${kg.running.proxy!.port}/acme/demo/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': secret },
      body: JSON.stringify({ model: 'llama-3-8b', messages: [{ role: 'user', content: 'Hello' }] }),
    });

  it('refuses a wrong token at the field and keeps no session', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(base);
    await shot(page, '01-sign-in');
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('keygate does not accept this token').waitFor();
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await context.close();
  });

  it('creates, links, proxies, and follows an unlink made elsewhere without a reload', async () => {
    const first = await newContext();
    const page = await signedIn(first);
    await page.getByText('No projects yet').waitFor();
    await shot(page, '02-projects-empty');

    // Project
    await page.getByRole('button', { name: 'Create the first project' }).click();
    await page.getByLabel('Slug').fill('Acme!');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('dialog').getByRole('alert').filter({ hasText: 'DNS label' }).waitFor(); // the error sits at the field
    await page.getByLabel('Slug').fill('acme');
    await page.getByLabel('Name (optional)').fill('Acme Inc.');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByText('No API keys yet').waitFor();
    expect(new URL(page.url()).pathname).toBe('/projects/acme/keys');

    // Deployment (authentication on by default in the dialog)
    await projectNav(page, 'Deployments').click();
    await page.getByRole('button', { name: 'Create deployment' }).first().click();
    await page.getByLabel('Name').fill('demo');
    await page.getByLabel('Model').fill('llama-3-8b');
    await page.getByLabel('Upstream URL').fill(`http://127.0.0.1:${upstream.port}`);
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByText('Enable API Key authentication').waitFor();
    expect(await page.getByRole('switch').isChecked()).toBe(true);
    expect((await callModel('kg_nothing')).status).toBe(401);

    // API key: the secret is shown once
    await projectNav(page, 'API Keys').click();
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    await page.getByLabel('Name').fill('ab');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('dialog').getByRole('alert').filter({ hasText: 'at least 4 characters' }).waitFor();
    await page.getByLabel('Name').fill('my-app');
    await page.getByLabel('Description (optional)').fill('the web shop');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const secret = (await page.locator('[data-secret]').textContent())!.trim();
    expect(secret).toMatch(/^kg_[A-Za-z0-9]{30}$/);
    await page.getByText('it cannot show it again').waitFor();
    await shot(page, '03-api-key-secret-once');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.locator('tr[data-key="my-app"]').waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    const row = page.locator('tr[data-key="my-app"] td');
    await row.first().waitFor();
    expect(await row.allInnerTexts()).toEqual(['my-app', 'the web shop', expect.stringMatching(/^kg_\w+…$/), 'Never', 'None', 'Never', '—', expect.stringMatching(/^(0|…)\s+requests by my-app/), 'Rotate Delete']);
    expect(await page.content()).not.toContain(secret);

    // Link it on the deployment's API Keys tab
    await projectNav(page, 'Deployments').click();
    await page.getByRole('link', { name: 'demo' }).click();
    await deploymentTab(page, 'API Keys').click();
    await page.getByRole('checkbox', { name: /my-app/ }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('[data-propagation]').getByText('applied on 1 of 1 proxy').waitFor();
    await shot(page, '04-deployment-api-keys');
    expect((await callModel(secret)).status).toBe(200);

    // A second browser unlinks it; saving with no key asks first (everyone would be locked out)
    const second = await newContext();
    const other = await signedIn(second, new URL(page.url()).pathname);
    await other.getByRole('checkbox', { name: /my-app/ }).uncheck();
    await other.getByText('everyone is locked out').first().waitFor();
    await other.getByRole('button', { name: 'Save changes' }).click();
    await other.getByRole('button', { name: 'Save anyway' }).click();
    await other.locator('[data-propagation]').waitFor();

    // The first page follows without a reload, and the key no longer opens the deployment
    await page.getByText('On: no keys').waitFor();
    // The badge shows the new state in the render that brings it; the form's ticks follow in an effect
    // after that render: poll, rather than read the instant between the two.
    await expect.poll(() => page.getByRole('checkbox', { name: /my-app/ }).isChecked()).toBe(false);
    expect((await callModel(secret)).status).toBe(401);
    await deploymentTab(page, 'Overview').click();
    await page.getByText('Try it').waitFor();
    await shot(page, '05-deployment-overview');
    await projectNav(page, 'Deployments').click();
    await page.locator('tr[data-deployment="demo"]').waitFor();
    await shot(page, '06-deployments');
    await second.close();
    await first.close();
  });

  it('deletes a linked key only after naming the deployments it unlinks', async () => {
    const context = await newContext();
    const page = await signedIn(context, '/projects/acme/deployments');
    await page.getByRole('link', { name: 'demo' }).click();
    await deploymentTab(page, 'API Keys').click();
    await page.getByRole('checkbox', { name: /my-app/ }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('[data-propagation]').waitFor();

    await projectNav(page, 'API Keys').click();
    await page.locator('tr[data-key="my-app"]').getByRole('link', { name: 'demo' }).waitFor();
    await shot(page, '07-api-keys');
    await page.getByRole('button', { name: 'Delete my-app' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('linked to a deployment').waitFor();
    expect(await dialog.getByRole('listitem').allTextContents()).toEqual(['demo']);
    await dialog.getByRole('button', { name: 'Unlink and delete' }).click();
    await page.getByText('No API keys yet').waitFor();
    await context.close();
  });

  it('resumes the change feed after a disconnect from the last revision it saw', async () => {
    const project = await createProject(kg, 'resume');
    const context = await newContext();
    // Test-only instrumentation: keep the page's WebSockets where the test can cut them.
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      const sockets: WebSocket[] = [];
      (window as unknown as { cutSockets: () => void }).cutSockets = () => sockets.forEach((s) => s.close());
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          sockets.push(this);
        }
      };
    });
    const page = await signedIn(context, '/projects/resume/keys');
    const subscribes: { afterRevision?: number | null }[] = [];
    page.on('websocket', (ws) =>
      ws.on('framesent', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type: string; payload?: { variables?: { afterRevision?: number | null } } };
        if (message.type === 'subscribe') subscribes.push(message.payload?.variables ?? {});
      }),
    );
    await page.getByText('No API keys yet').waitFor();
    await page.locator('.live.live').waitFor();

    const seen = await createKey(kg, project.id, 'seen-live');
    await page.locator('tr[data-key="seen-live"]').waitFor();

    await page.evaluate(() => (window as unknown as { cutSockets: () => void }).cutSockets());
    await createKey(kg, project.id, 'made-while-away');
    await page.locator('tr[data-key="made-while-away"]').waitFor();
    await page.locator('.live.live').waitFor();
    expect(subscribes.at(-1)).toMatchObject({ afterRevision: seen.propagation.revision });
    await context.close();
  });

  it('takes a project token to its project, and signs it out once the token is deleted', async () => {
    const project = await createProject(kg, 'team');
    const issued = await kg.gql(CreateAccessToken, { input: { name: 'team-dashboard', projectId: project.id } });
    const { id, token } = issued.data!.createAccessToken;
    const context = await newContext();
    const page = await signedIn(context, '/', token);
    await page.getByText('No API keys yet').waitFor();
    expect(new URL(page.url()).pathname).toBe('/projects/team/keys');
    await page.getByText('team-dashboard').waitFor();
    await page.locator('.live.live').waitFor();

    await kg.gql(DeleteAccessToken, { input: { id } });
    // The live socket is closed with 4403 when the token goes: the page says so and asks to sign in.
    await page.getByText('no longer accepted').waitFor({ timeout: 15_000 });
    await page.getByLabel('Access token').waitFor();
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await context.close();
  });
});
