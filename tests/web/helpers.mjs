// Shared fixtures of the browser tests: a real `cruddur serve --demo --in-memory` per test on
// free ports, headless Debian chromium through playwright-core, and probes of the backend
// contracts the page relies on, so a test skips (with the reason) what the server cannot do yet.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const webDir = path.join(repoRoot, 'web');
export const cruddurBin =
  process.env.CRUDDUR_BIN || path.join(repoRoot, 'build/src/cli/cruddur');
export const chromiumPath = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

// Screenshots go to docs/screenshots only when asked (run.sh --screenshots), so a plain test
// run leaves the work tree untouched.
export const screenshotDir = process.env.CRUDDUR_SCREENSHOTS
  ? path.join(repoRoot, 'docs/screenshots')
  : path.join(os.tmpdir(), 'cruddur-web-screenshots');

export const DEMO_FIRST_MESSAGE = 'Have you ever watched Babylon 5?';
export const DEMO_MESSAGE_COUNT = 104;


// Servers still running when the test process ends (a test that crashed or timed out).
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts `cruddur serve --demo --in-memory` and waits for its token line. Returns
// {baseUrl (the page), apiUrl, token (andrewbrown's), groupUuid (the demo conversation),
// features, mintToken(handle), stop()}.
export async function startCruddur() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'cruddur-web-'));
  const apiPort = await freePort();
  const dynamodbPort = await freePort();
  const child = spawn(
    cruddurBin,
    [
      'serve', '--demo', '--in-memory', '--data-dir', dataDir,
      '--api-port', String(apiPort), '--dynamodb-port', String(dynamodbPort), '--threads', '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  let spawnError = null;
  child.once('error', (error) => (spawnError = error));
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));

  async function waitForToken() {
    const started = Date.now();
    while (!/Bearer ([\w.-]+)/.test(output)) {
      if (spawnError) throw new Error(`cannot run ${cruddurBin}: ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`cruddur serve exited early:\n${output}`);
      if (Date.now() - started > 30000) {
        throw new Error(`cruddur serve did not print its token within 30 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    await waitForToken();
  } catch (error) {
    if (child.exitCode === null && !spawnError) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const token = /Bearer ([\w.-]+)/.exec(output)[1];
  const groupUuid = /group ([0-9a-f-]{36})/.exec(output)?.[1];
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const server = {
    apiUrl,
    baseUrl: apiUrl,
    token,
    groupUuid,
    features: {},
    async mintToken(handle) {
      const res = await fetch(`${apiUrl}/api/dev/sign_in`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ handle }),
      });
      return (await res.json()).access_token;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  server.features = await probeFeatures(apiUrl, token);
  return server;
}

// Checks that the running binary has every part the page relies on.
async function probeFeatures(apiUrl, token) {
  const page = await fetch(`${apiUrl}/`).catch(() => null);
  const servesPage =
    page?.status === 200 && (page.headers.get('content-type') || '').includes('text/html');
  await page?.body?.cancel();

  const signIn = await fetch(`${apiUrl}/api/dev/sign_in`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ handle: 'andrewbrown' }),
  });
  const devSignIn = signIn.status === 200;
  await signIn.body?.cancel();

  const abort = new AbortController();
  const events = await fetch(`${apiUrl}/api/events?access_token=${token}`, {
    signal: abort.signal,
  }).catch(() => null);
  const sse =
    events?.status === 200 &&
    (events.headers.get('content-type') || '').startsWith('text/event-stream');
  abort.abort();

  const features = { servesPage, devSignIn, sse };
  const missing = [];
  if (!servesPage) missing.push('GET / does not serve web/');
  if (!devSignIn) missing.push('POST /api/dev/sign_in does not sign demo users in');
  if (!sse) missing.push('GET /api/events does not answer with server-sent events');
  // The page's tests are only meaningful against the whole backend: a missing part fails them.
  if (missing.length) throw new Error(`cruddur serve lacks: ${missing.join('; ')}`);
  return features;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

// Opens the page in a fresh context; browser console errors fail loudly in the log.
export async function openPage(browser, server, { viewport = { width: 1200, height: 800 } } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`# page error: ${error.message}`));
  await page.goto(server.baseUrl + '/');
  return { context, page };
}

// Signs in as a demo user with the page's demo buttons (the local dev sign-in).
export async function signIn(page, server, handle) {
  await page.getByRole('button', { name: `@${handle}` }).click();
  await page.getByText(`Signed in as @${handle}`).waitFor();
}

export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`) });
}
