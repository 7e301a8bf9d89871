// Headless Chromium (Debian's, driven by playwright-core; no browser download): GraphiQL
// with every request to anything but the server blocked, a query typed into its editor and
// run; and a page of another origin calling the API as a browser app does (CORS preflight,
// a bearer token, an absolute contentUrl in an <img>), allowed for the listed origin only.
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

import { type Env, type Suite, equal, ok } from './check.js';

/** Only `allowed` origins are reachable; anything else is aborted and remembered. */
async function sealed(browser: Browser, allowed: string[]): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext();
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    const origin = url.startsWith('data:') ? 'data:' : new URL(url).origin;
    if (origin === 'data:' || allowed.includes(origin)) return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return { context, blocked };
}

/** The browser app: one HTML page that calls the API with a bearer token. */
const APP_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>app</title></head>
<body><pre id="out">running</pre><img id="photo" alt="">
<script>
(async () => {
  const params = new URLSearchParams(location.hash.slice(1));
  const out = document.getElementById('out');
  try {
    const res = await fetch(params.get('api') + '/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + params.get('token') },
      body: JSON.stringify({ query: '{ viewer { email media(first: 1) { edges { node { contentUrl } } } } }' }),
    });
    const body = await res.json();
    const img = document.getElementById('photo');
    const loaded = new Promise((resolve) => { img.onload = () => resolve('loaded'); img.onerror = () => resolve('failed'); });
    img.src = body.data.viewer.media.edges[0].node.contentUrl;
    out.textContent = JSON.stringify({ email: body.data.viewer.email, image: await loaded, width: img.naturalWidth });
  } catch (err) {
    out.textContent = JSON.stringify({ error: String(err) });
  }
})();
</script></body></html>`;

function serveApp(port: number): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(APP_PAGE);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

export async function browser(env: Env, suite: Suite): Promise<void> {
  const api = new URL(env.url).origin;
  const chrome = await chromium.launch({ executablePath: env.chromium, args: ['--no-sandbox'] });
  try {
    await suite.check('GraphiQL loads from the server alone and runs a query typed into it', async () => {
      const { context, blocked } = await sealed(chrome, [api]);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(String(err)));
      await page.goto(`${env.url}/graphql`);
      const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
      await editor.waitFor({ timeout: 20_000 });
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText('query Typed { __typename }');
      await page.locator('.graphiql-execute-button').click();
      await page.waitForFunction(
        () => document.querySelector('.result-window')?.textContent?.includes('"__typename": "Query"'),
        null,
        { timeout: 20_000 },
      );
      const icon = await page.locator('link[rel="icon"]').getAttribute('href');
      equal(icon, '/graphiql/favicon.svg', 'our favicon');
      equal(blocked, [], 'nothing requested from anywhere else');
      equal(problems, [], 'no script errors');
      await context.close();
    });

    await suite.check('a browser app on a listed origin calls the API and shows its photo', async () => {
      const server = await serveApp(env.allowedPort);
      try {
        const origin = `http://127.0.0.1:${env.allowedPort}`;
        const { context, blocked } = await sealed(chrome, [api, origin]);
        const page = await context.newPage();
        await page.goto(`${origin}/#api=${encodeURIComponent(env.url)}&token=${encodeURIComponent(env.annToken)}`);
        await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'running', null, { timeout: 20_000 });
        const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}') as Record<string, unknown>;
        equal(result['email'], 'ann@example.com', `the app read the viewer: ${JSON.stringify(result)}`);
        equal(result['image'], 'loaded', 'the absolute contentUrl loads in an <img>');
        ok(typeof result['width'] === 'number' && result['width'] > 0, 'a real picture');
        equal(blocked, [], 'nothing requested from anywhere else');
        await context.close();
      } finally {
        server.close();
      }
    });

    await suite.check('a page on an origin that is not listed cannot read the API', async () => {
      const server = await serveApp(env.otherPort);
      try {
        const origin = `http://127.0.0.1:${env.otherPort}`;
        const { context } = await sealed(chrome, [api, origin]);
        const page = await context.newPage();
        await page.goto(`${origin}/#api=${encodeURIComponent(env.url)}&token=${encodeURIComponent(env.annToken)}`);
        await page.waitForFunction(() => document.getElementById('out')?.textContent !== 'running', null, { timeout: 20_000 });
        const result = JSON.parse((await page.locator('#out').textContent()) ?? '{}') as Record<string, unknown>;
        ok(typeof result['error'] === 'string' && !('email' in result), `the browser refused: ${JSON.stringify(result)}`);
        await context.close();
      } finally {
        server.close();
      }
    });
  } finally {
    await chrome.close();
  }
}
