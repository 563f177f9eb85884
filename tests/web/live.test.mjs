// Two people chatting live: andrewbrown and bayko in two browser contexts on one
// `cruddur serve`, each seeing the other's messages without reloading, and the conversation
// list reordering when a message arrives in another conversation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openPage, signIn, startCruddur } from './helpers.mjs';

// With the server's event stream a message must show within about a second (the goal,
// plus headroom for a loaded machine); the page's polling fallback (a server without
// /api/events) needs up to its 3 s period.
// Server-sent events deliver within a second; polling (the fallback) would take 3 s.
const LIVE_TIMEOUT_MS = 2000;

let browser;
let server;
before(async () => {
  browser = await launchBrowser();
  server = await startCruddur();
});
after(async () => {
  await server?.stop();
  await browser?.close();
});

async function timed(what, promise) {
  const started = Date.now();
  await promise;
  console.log(`# ${what} after ${Date.now() - started} ms`);
}

test('andrewbrown and bayko see each other\'s messages live', async () => {
  const andrew = await openPage(browser, server);
  const bayko = await openPage(browser, server);
  try {
    await signIn(andrew.page, server, 'andrewbrown');
    await signIn(bayko.page, server, 'bayko');
    await andrew.page.locator('#conversation-list a', { hasText: 'Andrew Bayko' }).click();
    await bayko.page.locator('#conversation-list a', { hasText: 'Andrew Brown' }).click();
    await andrew.page.locator('#messages > li').last().waitFor();
    await bayko.page.locator('#messages > li').last().waitFor();
    const reloads = [];
    for (const p of [andrew.page, bayko.page]) {
      p.on('framenavigated', (frame) => frame === p.mainFrame() && reloads.push(frame.url()));
    }

    const ping = `Are you watching tonight? ${Date.now()}`;
    await andrew.page.getByLabel('Message', { exact: true }).fill(ping);
    await andrew.page.getByLabel('Message', { exact: true }).press('Enter');
    await andrew.page.locator('#messages > li.mine', { hasText: ping }).waitFor();
    await timed(
      'bayko saw andrewbrown\'s message',
      bayko.page.locator('#messages > li.theirs', { hasText: ping }).waitFor({ timeout: LIVE_TIMEOUT_MS }),
    );
    await bayko.page.waitForFunction(
      () => document.getElementById('announcer').textContent.startsWith('New message from Andrew Brown'),
      null,
      { timeout: LIVE_TIMEOUT_MS },
    );

    const pong = `Only if it is Babylon 5. ${Date.now()}`;
    await bayko.page.getByLabel('Message', { exact: true }).fill(pong);
    await bayko.page.getByRole('button', { name: 'Send' }).click();
    await timed(
      'andrewbrown saw bayko\'s reply',
      andrew.page.locator('#messages > li.theirs', { hasText: pong }).waitFor({ timeout: LIVE_TIMEOUT_MS }),
    );
    for (const p of [andrew.page, bayko.page]) {
      const texts = await p.locator('#messages > li .text').allInnerTexts();
      assert.deepEqual(texts.slice(-2), [ping, pong], 'both, once, in order');
    }
    assert.match(
      await andrew.page.locator('#conversation-list a').first().innerText(),
      new RegExp(pong.replace(/[.]/g, '\\.')),
      'the list shows the last message',
    );

    // A new conversation from londo lands on top of andrewbrown's list, then bayko's next
    // message moves theirs back up.
    const londoToken = await server.mintToken('londo');
    const res = await fetch(`${server.apiUrl}/api/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${londoToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'Great Maker! A new conversation.', handle: 'andrewbrown' }),
    });
    assert.equal(res.status, 200);
    const firstItem = andrew.page.locator('#conversation-list li').first();
    await timed(
      'londo\'s new conversation reached the top of andrewbrown\'s list',
      firstItem.getByText('Londo Mollari').waitFor({ timeout: LIVE_TIMEOUT_MS }),
    );
    assert.equal(await andrew.page.locator('#conversation-list li').count(), 2);

    await bayko.page.getByLabel('Message', { exact: true }).fill('Back on top.');
    await bayko.page.getByLabel('Message', { exact: true }).press('Enter');
    await timed(
      'bayko\'s conversation moved back to the top',
      firstItem.getByText('Andrew Bayko').waitFor({ timeout: LIVE_TIMEOUT_MS }),
    );
    await andrew.page.locator('#messages > li.theirs', { hasText: 'Back on top.' }).waitFor();
    assert.deepEqual(reloads, [], 'no page reloaded');
  } finally {
    await andrew.context.close();
    await bayko.context.close();
  }
});
