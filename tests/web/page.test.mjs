// The messaging page in headless chromium against a real `cruddur serve --demo --in-memory`:
// sign-in, the conversation list, paging back to the first message, sending, the 1024-character
// counter, new conversations, error states, keyboard use and the phone-width layout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEMO_FIRST_MESSAGE,
  DEMO_MESSAGE_COUNT,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
  startCruddur,
} from './helpers.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

// Runs `body` with its own server and browser context, stopping both afterwards.
async function withPage(body, options) {
  const server = await startCruddur();
  const { context, page } = await openPage(browser, server, options);
  try {
    await body({ server, page, context });
  } finally {
    await context.close();
    await server.stop();
  }
}

const conversationLink = (page, name) =>
  page.locator('#conversation-list a', { hasText: name });
const messageItems = (page) => page.locator('#messages > li');

async function apiGet(server, handle, path) {
  const token = await server.mintToken(handle);
  const res = await fetch(server.apiUrl + path, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `GET ${path} as ${handle}`);
  return res.json();
}

test('local sign-in with the demo user buttons', async () => {
  await withPage(async ({ server, page }) => {
    for (const handle of ['andrewbrown', 'bayko', 'londo', 'altbrown']) {
      await page.getByRole('button', { name: `@${handle}` }).waitFor();
    }
    await page.getByRole('button', { name: '@bayko' }).click();
    await page.getByText('Signed in as @bayko').waitFor();
    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('cruddur.session')));
    assert.equal(stored.handle, 'bayko');
    assert.equal(stored.mode, 'dev');
    await conversationLink(page, 'Andrew Brown').waitFor();
  });
});

test('sign in, list, open the demo conversation and page back to its first message', async () => {
  await withPage(async ({ server, page }) => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await screenshot(page, 'sign-in');

    await signIn(page, server, 'andrewbrown');
    const link = conversationLink(page, 'Andrew Bayko');
    await link.waitFor();
    assert.equal(await page.locator('#conversation-list li').count(), 1);
    assert.match(await link.innerText(), /@bayko/);
    assert.match(await link.innerText(), /See you then\. \(round 4\)/);
    assert.match(await link.locator('time').innerText(), /^(just now|\d+ min ago)$/);
    await screenshot(page, 'conversation-list');

    await link.click();
    await page.waitForURL(/#\/g\/[0-9a-f-]{36}$/);
    assert.ok(page.url().endsWith(server.groupUuid), 'the demo group opens');
    await page.getByRole('heading', { name: 'Andrew Bayko (@bayko)' }).waitFor();
    await messageItems(page).last().getByText('See you then. (round 4)').waitFor();
    assert.equal(await link.getAttribute('aria-current'), 'page');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'composer');
    await screenshot(page, 'conversation');

    // Scroll up until the start of the conversation: every page arrives, in order, once.
    const start = page.getByText('This is the start of the conversation.');
    for (let i = 0; i < 20 && !(await start.isVisible()); i++) {
      const count = await messageItems(page).count();
      await page.locator('#scroller').evaluate((s) => s.scrollTo(0, 0));
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('#messages > li').length > n ||
          !document.getElementById('history-start').hidden,
        count,
      );
    }
    await start.waitFor();
    assert.equal(await messageItems(page).count(), DEMO_MESSAGE_COUNT);
    assert.match(await messageItems(page).first().innerText(), new RegExp(DEMO_FIRST_MESSAGE));
    const times = await messageItems(page).evaluateAll((items) =>
      items.map((li) => li.querySelector('time').getAttribute('datetime')),
    );
    assert.deepEqual(times, [...times].sort(), 'oldest to newest');
    const uuids = await messageItems(page).evaluateAll((items) => items.map((li) => li.dataset.uuid));
    assert.equal(new Set(uuids).size, DEMO_MESSAGE_COUNT, 'no duplicates');
  });
});

test('send a message; the counter counts code points and blocks 1025 characters', async () => {
  await withPage(async ({ server, page }) => {
    await signIn(page, server, 'andrewbrown');
    await conversationLink(page, 'Andrew Bayko').click();
    const composer = page.getByLabel('Message', { exact: true });
    const send = page.getByRole('button', { name: 'Send' });
    const counter = page.locator('#counter');
    await messageItems(page).first().waitFor();

    assert.equal(await send.isDisabled(), true, 'nothing to send yet');
    const stamp = String(Date.now());
    const text = `Hello from the browser <b>test</b> ${stamp}`;
    await composer.fill(text);
    assert.equal(await counter.innerText(), `${[...text].length} / 1024`);
    await composer.press('Enter');
    const mine = page.locator('#messages > li.mine', { hasText: text });
    await mine.waitFor();
    assert.equal(await mine.locator('b').count(), 0, 'user text is text, not HTML');
    assert.equal(await composer.inputValue(), '');
    assert.match(await conversationLink(page, 'Andrew Bayko').innerText(), new RegExp(stamp));
    const stored = await apiGet(server, 'bayko', `/api/messages/${server.groupUuid}`);
    assert.equal(stored.at(-1).message, text, 'the server has it');

    await composer.fill('a'.repeat(1024));
    assert.equal(await counter.innerText(), '1024 / 1024');
    assert.equal(await send.isDisabled(), false);
    await composer.fill('a'.repeat(1025));
    assert.equal(await counter.innerText(), '1025 / 1024 (1 too many)');
    assert.equal(await send.isDisabled(), true, '1025 characters cannot be sent');
    assert.equal(await composer.getAttribute('aria-invalid'), 'true');
    const before = await messageItems(page).count();
    await composer.press('End');
    await composer.press('Enter');
    await page.locator('#send-error', { hasText: 'Messages can be at most 1024 characters.' }).waitFor();
    assert.equal(await messageItems(page).count(), before, 'Enter did not send it');

    // 1024 emoji are 2048 UTF-16 units but 1024 code points: allowed, and the server agrees.
    const emoji = '\u{1F600}'.repeat(1024);
    await composer.fill(emoji);
    assert.equal(await counter.innerText(), '1024 / 1024');
    await send.click();
    await page.locator('#messages > li.mine', { hasText: '\u{1F600}\u{1F600}\u{1F600}' }).waitFor();
    assert.equal(await page.locator('#send-error').isVisible(), false);
  });
});

test('start a new conversation with londo', async () => {
  await withPage(async ({ server, page }) => {
    await signIn(page, server, 'andrewbrown');
    await conversationLink(page, 'Andrew Bayko').waitFor();
    await page.getByRole('link', { name: 'New', exact: true }).click();
    const handleInput = page.getByLabel('Send a message to');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'new-handle');

    await handleInput.fill('nobody-here');
    await handleInput.press('Enter');
    await page.getByText('There is no user @nobody-here.').waitFor();
    assert.equal(await handleInput.getAttribute('aria-invalid'), 'true');

    await handleInput.fill('andrewbrown');
    await handleInput.press('Enter');
    await page.getByText('You cannot message yourself.').waitFor();

    await handleInput.fill('@londo');
    await handleInput.press('Enter');
    await page.getByRole('heading', { name: 'New conversation with Londo Mollari (@londo)' }).waitFor();
    await page.getByText('No messages yet. Say hello!').waitFor();
    const text = 'Ambassador, a word about the Centauri Republic.';
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();

    await page.waitForURL(/#\/g\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name: 'Londo Mollari (@londo)' }).waitFor();
    await page.locator('#messages > li.mine', { hasText: text }).waitFor();
    const items = page.locator('#conversation-list li');
    assert.equal(await items.count(), 2);
    assert.match(await items.first().innerText(), /Londo Mollari/, 'newest conversation first');

    const londoGroups = await apiGet(server, 'londo', '/api/message_groups');
    assert.equal(londoGroups.length, 1);
    assert.equal(londoGroups[0].handle, 'andrewbrown');
    assert.equal(londoGroups[0].message, text);
  });
});

test('error states: bad token, expired session, not a member, network down', async () => {
  await withPage(async ({ server, page, context }) => {
    // A token the server does not accept.
    await page.getByLabel('Or paste an access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByText('That token was not accepted').waitFor();
    assert.equal(await page.locator('#app').isVisible(), false);

    // A session whose token stops working: back to sign-in, saying why.
    await signIn(page, server, 'andrewbrown');
    await page.evaluate(() => {
      const session = JSON.parse(sessionStorage.getItem('cruddur.session'));
      session.token = `${session.token.slice(0, -8)}AAAAAAAA`;
      sessionStorage.setItem('cruddur.session', JSON.stringify(session));
    });
    await page.reload();
    await page.getByText('Your session has expired. Please sign in again.').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cruddur.session')), null);

    // Someone else's conversation.
    await signIn(page, server, 'londo');
    await page.evaluate((uuid) => (location.hash = `#/g/${uuid}`), server.groupUuid);
    await page.getByText('You are not a member of this conversation.').waitFor();
    assert.equal(await page.locator('#send-form').isVisible(), false);
    await page.evaluate(() => (location.hash = '#/g/00000000-0000-4000-8000-000000000000'));
    await page.getByText('This conversation does not exist.').waitFor();

    // The network goes away and comes back.
    await page.evaluate(() => (location.hash = '#/'));
    await context.setOffline(true);
    await page.getByText("Can't reach the server.").waitFor();
    await context.setOffline(false);
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 15000 });
    assert.equal(await page.locator('#app').isVisible(), true, 'still signed in');
  });
});

test('keyboard only: sign in, open a conversation, send', async () => {
  await withPage(async ({ server, page }) => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: '@andrewbrown' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as @andrewbrown').waitFor();
    // Signing in puts the keyboard on the first conversation.
    await page.waitForFunction(() => document.activeElement?.classList.contains('conversation-link'));
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.id === 'composer');
    await page.keyboard.type('Typed without a mouse');
    await page.keyboard.press('Enter');
    await page.locator('#messages > li.mine', { hasText: 'Typed without a mouse' }).waitFor();
  });
});

test('phone width: one pane at a time', async () => {
  await withPage(
    async ({ server, page }) => {
      await signIn(page, server, 'andrewbrown');
      const link = conversationLink(page, 'Andrew Bayko');
      await link.waitFor();
      assert.equal(await page.locator('#pane').isVisible(), false, 'list only');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no horizontal scrolling (${width}px)`);
      await screenshot(page, 'phone-conversation-list');

      await link.click();
      await messageItems(page).last().waitFor();
      assert.equal(await page.locator('#inbox').isVisible(), false, 'conversation only');
      await page.getByLabel('Message', { exact: true }).fill('Sent from a phone');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('#messages > li.mine', { hasText: 'Sent from a phone' }).waitFor();
      await screenshot(page, 'phone-conversation');

      await page.getByRole('link', { name: 'Conversations' }).click();
      await link.waitFor();
      assert.equal(await page.locator('#pane').isVisible(), false);
    },
    { viewport: { width: 390, height: 844 } },
  );
});

test('token lifetime: a pasted token ends the session when it expires', async () => {
  await withPage(async ({ server, page }) => {
    await page.clock.install();
    await page.reload();
    await page.getByLabel('Or paste an access token').fill(await server.mintToken('bayko'));
    await page.getByRole('button', { name: 'Sign in with token' }).click();
    await page.getByText('Signed in as @bayko').waitFor();
    await page.clock.fastForward('01:00:05');
    await page.locator('#sign-in-error', { hasText: 'Your access token has expired.' }).waitFor();
    assert.equal(await page.locator('#app').isVisible(), false);
  });
});

test('token lifetime: a local sign-in renews its token before it expires', async () => {
  await withPage(async ({ server, page }) => {
    await page.clock.install();
    await page.reload();
    await page.getByRole('button', { name: '@andrewbrown' }).click();
    await page.getByText('Signed in as @andrewbrown').waitFor();
    const token = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('cruddur.session')).token);
    const first = await token();
    // The renewal comes 2 minutes before the hour is up.
    await page.clock.fastForward('00:59:00');
    await page.waitForFunction(
      (old) => JSON.parse(sessionStorage.getItem('cruddur.session')).token !== old,
      first,
    );
    assert.equal(await page.locator('#app').isVisible(), true, 'still signed in');
    await page.locator('#conversation-list a', { hasText: 'Andrew Bayko' }).click();
    await messageItems(page).last().waitFor();
  });
});

test('relative times from created_at (ISO 8601 UTC with microseconds)', async () => {
  await withPage(async ({ page }) => {
    const texts = await page.evaluate(async () => {
      const { parseTime, relativeTime } = await import('/app.js');
      const now = parseTime('2026-11-24T10:00:00.000000+00:00');
      const at = (iso) => relativeTime(parseTime(iso), now);
      return {
        parsed: parseTime('2026-11-24T09:31:09.626240+00:00').toISOString(),
        zulu: parseTime('2026-11-24T09:31:09Z').toISOString(),
        now: at('2026-11-24T09:59:30.000000+00:00'),
        twoMinutes: at('2026-11-24T09:58:00.000000+00:00'),
        hour: at('2026-11-24T09:00:00.000000+00:00'),
        hours: at('2026-11-24T05:00:00.000000+00:00'),
        yesterday: at('2026-11-23T09:00:00.000000+00:00'),
        days: at('2026-11-20T10:00:00.000000+00:00'),
        older: at('2026-10-01T10:00:00.000000+00:00'),
        lastYear: at('2025-10-01T10:00:00.000000+00:00'),
      };
    });
    assert.deepEqual(texts, {
      parsed: '2026-11-24T09:31:09.626Z',
      zulu: '2026-11-24T09:31:09.000Z',
      now: 'just now',
      twoMinutes: '2 min ago',
      hour: '1 hour ago',
      hours: '5 hours ago',
      yesterday: 'yesterday',
      days: '4 days ago',
      older: 'Oct 1',
      lastYear: 'Oct 1, 2025',
    });
  });
});
