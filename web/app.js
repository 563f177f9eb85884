// Cruddur's messaging page: plain ES module, no build step, same-origin requests only.
//
// Talks to `cruddur serve`'s HTTP API (see src/messaging/http_api.h):
//   POST /api/dev/sign_in {handle}        local issuer sign-in (404 when Cognito is configured)
//   GET  /api/message_groups              the caller's conversations, newest first
//   GET  /api/messages/<group>[?cursor=]  one page, oldest to newest; X-Next-Cursor = older page
//   POST /api/messages                    {message, message_group_uuid} or {message, handle}
//   GET  /api/users/@<handle>/short       {uuid, handle, display_name}
//   GET  /api/events?access_token=        Server-Sent Events `message` and `group`; when the
//                                         server answers 404 the page polls instead.
//
// User text only ever reaches the DOM through text nodes (never innerHTML).

const MAX_CHARS = 1024; // the API's limit, counted in Unicode code points
const POLL_MS = 3000; // fallback refresh when the server has no event stream
const NETWORK_RETRY_MS = 5000;
const REFRESH_BEFORE_EXPIRY_S = 120; // renew a local-sign-in token this long before it expires
const STORAGE_KEY = 'cruddur.session';

const ERROR_TEXT = {
  message_blank: 'Write something first.',
  message_exceed_max_chars: `Messages can be at most ${MAX_CHARS} characters.`,
  message_group_uuid_blank: 'Pick a conversation first.',
  user_receiver_handle_blank: 'Say who the message is for.',
  cannot_message_self: 'You cannot message yourself.',
  message_invalid: 'That message could not be read; try retyping it.',
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);

// Builds an element; string children become text nodes, so user text is never parsed as HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function show(node, visible) {
  node.hidden = !visible;
}

function codePoints(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

// created_at is ISO 8601 UTC with microseconds ("2026-11-24T09:31:09.626240+00:00"); keep
// milliseconds so every engine parses it the same way.
export function parseTime(text) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(text || '');
  if (!m) return new Date(text);
  const fraction = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return new Date(m[1] + fraction + (m[3] || 'Z'));
}

export function relativeTime(date, now = new Date()) {
  const seconds = Math.round((now - date) / 1000);
  if (Number.isNaN(seconds)) return '';
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  const options = { month: 'short', day: 'numeric' };
  if (date.getFullYear() !== now.getFullYear()) options.year = 'numeric';
  return date.toLocaleDateString(undefined, options);
}

function clockTime(date, now = new Date()) {
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  if (date.toDateString() === now.toDateString()) return time;
  const day = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return `${day}, ${time}`;
}

function timeElement(createdAt, format) {
  const date = parseTime(createdAt);
  return el(
    'time',
    { datetime: createdAt, title: date.toLocaleString(), dataset: { format } },
    format === 'relative' ? relativeTime(date) : clockTime(date),
  );
}

function refreshTimes() {
  for (const node of document.querySelectorAll('time[data-format]')) {
    const date = parseTime(node.getAttribute('datetime'));
    node.textContent = node.dataset.format === 'relative' ? relativeTime(date) : clockTime(date);
  }
}

function decodeJwtPayload(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = part + '='.repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function announce(text) {
  const announcer = $('announcer');
  announcer.textContent = '';
  // A fresh text node after a tick makes screen readers read repeated texts too.
  setTimeout(() => {
    announcer.textContent = text;
  }, 50);
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  session: null, // {token, handle, mode: 'dev'|'token', exp}
  groups: [], // conversation entries, newest first
  conv: null, // the open conversation, see openConversation
  tokenTimer: 0,
  live: { source: null, mode: 'sse', retryTimer: 0, pollTimer: 0, backoff: 1000, broken: false },
  networkTimer: 0,
};

class ApiError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

class NetworkError extends Error {}

// Same-origin JSON request with the bearer token. A 401 ends the session (unless `checking`, a
// token being tried at sign-in); a network failure raises the "can't reach the server" banner
// until a retry succeeds.
async function api(path, { method = 'GET', body, auth = true, checking = false } = {}) {
  const headers = {};
  if (auth && state.session) headers.Authorization = `Bearer ${state.session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    networkDown();
    throw new NetworkError('network');
  }
  networkUp();
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.status === 401 && auth && state.session && !checking) {
    signOut('Your session has expired or is no longer valid. Please sign in again.');
    throw new ApiError(401, data);
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------
// Network banner

function showBanner(text, retry) {
  $('banner-text').textContent = text;
  show($('banner-retry'), Boolean(retry));
  show($('banner'), true);
}

function hideBanner() {
  show($('banner'), false);
}

function networkDown() {
  if (!state.session) return;
  showBanner("Can't reach the server. Check your connection; retrying…", true);
  if (!state.networkTimer) {
    state.networkTimer = setInterval(() => {
      if (navigator.onLine !== false) resync();
    }, NETWORK_RETRY_MS);
  }
}

function networkUp() {
  if (!state.networkTimer) return;
  clearInterval(state.networkTimer);
  state.networkTimer = 0;
  hideBanner();
  // Reconnect the event stream and pick up whatever was missed.
  if (state.session) {
    startLive();
    setTimeout(resync, 0);
  }
}

// ---------------------------------------------------------------------------------------------
// Session

function saveSession(session) {
  state.session = session;
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

function loadSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');
    return session && typeof session.token === 'string' ? session : null;
  } catch {
    return null;
  }
}

function sessionFromToken(token, mode, handle) {
  const claims = decodeJwtPayload(token);
  return {
    token,
    mode,
    handle: handle || claims.username || claims['cognito:username'] || '',
    exp: typeof claims.exp === 'number' ? claims.exp : 0,
  };
}

function setSignInError(text) {
  const node = $('sign-in-error');
  node.textContent = text || '';
  show(node, Boolean(text));
}

async function devSignIn(handle) {
  setSignInError('');
  let result;
  try {
    result = await api('/api/dev/sign_in', { method: 'POST', body: { handle }, auth: false });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      devSignInUnavailable();
    } else if (error instanceof NetworkError) {
      setSignInError("Can't reach the server. Check that cruddur serve is running.");
    } else {
      setSignInError(`Sign-in failed (${error.message}).`);
    }
    return null;
  }
  return sessionFromToken(result.data.access_token, 'dev', result.data.handle || handle);
}

function devSignInUnavailable() {
  show($('dev-sign-in'), false);
  show($('dev-sign-in-unavailable'), true);
  $('token-input').focus();
}

async function tokenSignIn(raw) {
  setSignInError('');
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) {
    setSignInError('Paste an access token first.');
    $('token-input').focus();
    return;
  }
  const session = sessionFromToken(token, 'token');
  if (session.exp && session.exp * 1000 <= Date.now()) {
    setSignInError('That token has expired. Get a new one and try again.');
    $('token-input').focus();
    return;
  }
  await enterApp(session, true);
}

function scheduleTokenTimer() {
  clearTimeout(state.tokenTimer);
  const { exp, mode } = state.session;
  if (!exp) return;
  const now = Date.now() / 1000;
  if (mode === 'dev') {
    const wait = Math.max(5, exp - now - REFRESH_BEFORE_EXPIRY_S);
    state.tokenTimer = setTimeout(renewDevToken, wait * 1000);
  } else {
    const wait = Math.max(0, exp - now);
    state.tokenTimer = setTimeout(
      () => signOut('Your access token has expired. Please sign in again.'),
      Math.min(wait * 1000, 2 ** 31 - 1),
    );
  }
}

async function renewDevToken() {
  const session = await devSignIn(state.session.handle);
  if (!state.session) return;
  if (!session) {
    // Keep the current token; the server's 401 ends the session if it runs out.
    state.tokenTimer = setTimeout(renewDevToken, 30000);
    return;
  }
  saveSession(session);
  scheduleTokenTimer();
  startLive();
}

// Shows the messaging screen for `session`, checking the token with the conversation list.
async function enterApp(session, interactive) {
  state.session = session;
  try {
    await loadGroups(true);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      state.session = null;
      sessionStorage.removeItem(STORAGE_KEY);
      setSignInError(
        interactive
          ? 'That token was not accepted (invalid, expired or for an unknown user).'
          : 'Your session has expired. Please sign in again.',
      );
      return;
    }
    if (!(error instanceof NetworkError)) throw error;
  }
  saveSession(session);
  setSignInError('');
  $('account-handle').textContent = session.handle ? `@${session.handle}` : 'token user';
  show($('account'), true);
  show($('sign-in'), false);
  show($('app'), true);
  $('token-input').value = '';
  scheduleTokenTimer();
  startLive();
  await route();
  if (interactive) announce(`Signed in as ${session.handle || 'token user'}.`);
  if (interactive && !state.conv) focusFirstConversation();
}

function signOut(message) {
  stopLive();
  clearTimeout(state.tokenTimer);
  clearInterval(state.networkTimer);
  state.networkTimer = 0;
  hideBanner();
  state.session = null;
  state.groups = [];
  state.conv = null;
  sessionStorage.removeItem(STORAGE_KEY);
  $('conversation-list').replaceChildren();
  $('messages').replaceChildren();
  show($('app'), false);
  show($('account'), false);
  show($('sign-in'), true);
  setSignInError(message || ''); // role=alert: read out without the announcer
  $('sign-in-title').focus();
}

// ---------------------------------------------------------------------------------------------
// Conversation list

async function loadGroups(checking = false) {
  const { data } = await api('/api/message_groups', { checking });
  state.groups = Array.isArray(data) ? data : [];
  sortGroups();
  renderGroups();
}

function sortGroups() {
  state.groups.sort((a, b) => parseTime(b.created_at) - parseTime(a.created_at));
}

// Adds or updates a conversation entry; an update older than what is shown (events can arrive
// after a fresher page) is ignored.
function upsertGroup(entry) {
  const index = state.groups.findIndex((g) => g.uuid === entry.uuid);
  if (index >= 0) {
    const current = state.groups[index];
    if (parseTime(entry.created_at) < parseTime(current.created_at)) return;
    state.groups[index] = { ...current, ...entry };
  } else {
    state.groups.push(entry);
  }
  sortGroups();
  renderGroups();
}

function initials(name) {
  const words = (name || '?').trim().split(/\s+/);
  return words
    .slice(0, 2)
    .map((w) => String.fromCodePoint(w.codePointAt(0) || 63))
    .join('')
    .toUpperCase();
}

function renderGroups() {
  const list = $('conversation-list');
  const focused = document.activeElement?.closest?.('.conversation-link')?.dataset.uuid;
  const openUuid = state.conv?.uuid;
  list.replaceChildren(
    ...state.groups.map((g) =>
      el(
        'li',
        {},
        el(
          'a',
          {
            class: 'conversation-link',
            href: `#/g/${encodeURIComponent(g.uuid)}`,
            'aria-current': g.uuid === openUuid ? 'page' : undefined,
            dataset: { uuid: g.uuid },
          },
          el('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(g.display_name)),
          el(
            'span',
            { class: 'conversation-text' },
            el(
              'span',
              { class: 'conversation-top' },
              el('span', { class: 'name' }, g.display_name || g.handle),
              el('span', { class: 'handle' }, `@${g.handle}`),
              timeElement(g.created_at, 'relative'),
            ),
            el('span', { class: 'preview' }, g.message || ''),
          ),
        ),
      ),
    ),
  );
  $('inbox-status').textContent = state.groups.length ? '' : 'No conversations yet.';
  if (focused) list.querySelector(`[data-uuid="${CSS.escape(focused)}"]`)?.focus();
}

function focusFirstConversation() {
  const first = $('conversation-list').querySelector('a');
  (first || $('new-conversation-link')).focus();
}

// Up/Down/Home/End move between conversations.
function onListKey(event) {
  const links = [...$('conversation-list').querySelectorAll('a')];
  const index = links.indexOf(document.activeElement);
  if (index < 0) return;
  let next = -1;
  if (event.key === 'ArrowDown') next = Math.min(index + 1, links.length - 1);
  else if (event.key === 'ArrowUp') next = Math.max(index - 1, 0);
  else if (event.key === 'Home') next = 0;
  else if (event.key === 'End') next = links.length - 1;
  if (next < 0) return;
  event.preventDefault();
  links[next].focus();
}

// ---------------------------------------------------------------------------------------------
// Routing: #/ (list), #/g/<group uuid>, #/new, #/new/<handle>

function currentRoute() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [name, arg] = hash.split('/');
  if (name === 'g' && arg) return { name: 'group', uuid: arg };
  if (name === 'new') return { name: 'new', handle: arg || '' };
  return { name: 'list' };
}

async function route() {
  if (!state.session) return;
  const r = currentRoute();
  $('app').classList.toggle('pane-open', r.name !== 'list');
  if (r.name === 'group') await openConversation(r.uuid);
  else if (r.name === 'new' && r.handle) await openNewConversation(r.handle);
  else if (r.name === 'new') showNewForm();
  else showPlaceholder();
}

function setPane(which) {
  show($('placeholder'), which === 'placeholder');
  show($('new-form'), which === 'new-form');
  show($('conversation'), which === 'conversation');
}

function showPlaceholder() {
  state.conv = null;
  $('pane-title').textContent = 'Select a conversation';
  setPane('placeholder');
  renderGroups();
}

function showNewForm() {
  state.conv = null;
  $('pane-title').textContent = 'New conversation';
  setPane('new-form');
  setNewError('');
  renderGroups();
  $('new-handle').focus();
}

function setNewError(text) {
  const node = $('new-error');
  node.textContent = text || '';
  show(node, Boolean(text));
  $('new-handle').setAttribute('aria-invalid', text ? 'true' : 'false');
}

async function onNewSubmit(event) {
  event.preventDefault();
  const handle = $('new-handle').value.trim().replace(/^@/, '');
  if (!handle) {
    setNewError('Type the handle of the person to write to.');
    $('new-handle').focus();
    return;
  }
  if (state.session.handle && handle === state.session.handle) {
    setNewError(ERROR_TEXT.cannot_message_self);
    $('new-handle').focus();
    return;
  }
  const existing = state.groups.find((g) => g.handle === handle);
  if (existing) {
    location.hash = `#/g/${encodeURIComponent(existing.uuid)}`;
    return;
  }
  location.hash = `#/new/${encodeURIComponent(handle)}`;
}

// A conversation that starts with the first message: POST {message, handle}.
async function openNewConversation(handle) {
  const conv = newConversationState(null);
  conv.newHandle = handle;
  state.conv = conv;
  renderGroups();
  $('pane-title').textContent = `New conversation with @${handle}`;
  let profile;
  try {
    ({ data: profile } = await api(`/api/users/@${encodeURIComponent(handle)}/short`));
  } catch (error) {
    if (state.conv !== conv) return;
    $('pane-title').textContent = 'New conversation';
    setPane('new-form');
    $('new-handle').value = handle;
    if (error instanceof ApiError && error.status === 404) setNewError(`There is no user @${handle}.`);
    else if (error instanceof NetworkError) setNewError("Can't reach the server; try again.");
    else if (!(error instanceof ApiError && error.status === 401)) setNewError(error.message);
    $('new-handle').focus();
    return;
  }
  if (state.conv !== conv) return;
  const existing = state.groups.find((g) => g.handle === profile.handle);
  if (existing) {
    location.replace(`#/g/${encodeURIComponent(existing.uuid)}`);
    return;
  }
  conv.other = profile;
  $('pane-title').textContent = `New conversation with ${profile.display_name} (@${profile.handle})`;
  setPane('conversation');
  $('messages').replaceChildren();
  setConversationError('');
  show($('send-form'), true);
  show($('load-older'), false);
  show($('history-start'), false);
  $('history-status').textContent = 'No messages yet. Say hello!';
  updateCounter();
  focusComposer();
}

// ---------------------------------------------------------------------------------------------
// Conversation view

function newConversationState(uuid) {
  return {
    uuid,
    seen: new Set(), // message uuids on screen
    nextCursor: null,
    reachedStart: false,
    loading: false,
    other: null,
    newHandle: null,
  };
}

function setConversationError(text) {
  const node = $('conversation-error');
  node.textContent = text || '';
  show(node, Boolean(text));
}

function conversationTitle(conv) {
  const group = state.groups.find((g) => g.uuid === conv.uuid);
  const other = group || conv.other;
  if (other) return `${other.display_name} (@${other.handle})`;
  return 'Conversation';
}

async function openConversation(uuid) {
  if (state.conv && state.conv.uuid === uuid) return;
  const conv = newConversationState(uuid);
  state.conv = conv;
  renderGroups();
  setPane('conversation');
  setConversationError('');
  show($('send-form'), true);
  show($('load-older'), false);
  show($('history-start'), false);
  $('messages').replaceChildren();
  $('history-status').textContent = 'Loading messages…';
  $('pane-title').textContent = conversationTitle(conv);
  updateCounter();

  let page;
  try {
    page = await api(`/api/messages/${encodeURIComponent(uuid)}`);
  } catch (error) {
    if (state.conv !== conv) return;
    $('history-status').textContent = '';
    show($('send-form'), false);
    if (error instanceof ApiError && error.status === 403) {
      $('pane-title').textContent = 'Not available';
      setConversationError('You are not a member of this conversation.');
    } else if (error instanceof ApiError && (error.status === 404 || error.status === 400)) {
      $('pane-title').textContent = 'Not found';
      setConversationError('This conversation does not exist.');
    } else if (error instanceof NetworkError) {
      setConversationError("Can't reach the server. The conversation loads when it is back.");
      state.conv = null; // resync reopens it
    } else if (!(error instanceof ApiError && error.status === 401)) {
      setConversationError(`Could not load the conversation (${error.message}).`);
    }
    return;
  }
  if (state.conv !== conv) return;
  const messages = Array.isArray(page.data) ? page.data : [];
  if (!conv.other) {
    const other = messages.find((m) => m.handle !== state.session.handle);
    if (other) conv.other = { handle: other.handle, display_name: other.display_name };
  }
  $('pane-title').textContent = conversationTitle(conv);
  $('history-status').textContent = '';
  setCursor(conv, page.headers.get('X-Next-Cursor'));
  for (const m of messages) insertMessage(m);
  scrollToBottom();
  focusComposer();
  announce(`Conversation with ${conversationTitle(conv)}. ${messages.length} recent messages.`);
  await fillScroller(conv);
}

// The composer takes the keyboard on wide screens; on phones that would pop up the on-screen
// keyboard over the messages, so the conversation's heading takes focus instead.
function focusComposer() {
  if (window.matchMedia('(max-width: 720px)').matches) $('pane-title').focus();
  else $('composer').focus();
}

function setCursor(conv, cursor) {
  conv.nextCursor = cursor || null;
  conv.reachedStart = !cursor;
  show($('load-older'), !conv.reachedStart);
  show($('history-start'), conv.reachedStart);
}

// Loads older pages until the view can scroll, so scrolling up can ask for more.
async function fillScroller(conv) {
  const scroller = $('scroller');
  while (
    state.conv === conv &&
    conv.nextCursor &&
    scroller.scrollHeight <= scroller.clientHeight + 40
  ) {
    if (!(await loadOlder())) break;
  }
}

// Prepends the next older page, keeping what is on screen where it is. Returns whether a page
// was loaded.
async function loadOlder() {
  const conv = state.conv;
  if (!conv || conv.loading || !conv.nextCursor) return false;
  conv.loading = true;
  $('history-status').textContent = 'Loading older messages…';
  let page;
  try {
    page = await api(
      `/api/messages/${encodeURIComponent(conv.uuid)}?cursor=${encodeURIComponent(conv.nextCursor)}`,
    );
  } catch (error) {
    conv.loading = false;
    if (state.conv === conv) {
      $('history-status').textContent =
        error instanceof NetworkError ? "Can't reach the server." : 'Could not load older messages.';
    }
    return false;
  }
  conv.loading = false;
  if (state.conv !== conv) return false;
  const scroller = $('scroller');
  const before = scroller.scrollHeight - scroller.scrollTop;
  const messages = Array.isArray(page.data) ? page.data : [];
  for (const m of messages) insertMessage(m);
  scroller.scrollTop = scroller.scrollHeight - before;
  setCursor(conv, page.headers.get('X-Next-Cursor'));
  $('history-status').textContent = conv.reachedStart
    ? ''
    : `${messages.length} older messages loaded.`;
  if (conv.reachedStart && document.activeElement === document.body) scroller.focus();
  return true;
}

function onScroll() {
  if ($('scroller').scrollTop < 120) loadOlder();
}

function nearBottom() {
  const s = $('scroller');
  return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
}

function scrollToBottom() {
  const s = $('scroller');
  s.scrollTop = s.scrollHeight;
}

function messageNode(m) {
  const mine = state.session && m.handle === state.session.handle;
  return el(
    'li',
    {
      class: mine ? 'message mine' : 'message theirs',
      dataset: { uuid: m.uuid, createdAt: m.created_at },
    },
    el(
      'div',
      { class: 'bubble' },
      el('p', { class: 'author' }, mine ? 'You' : m.display_name || `@${m.handle}`),
      el('p', { class: 'text' }, m.message),
      timeElement(m.created_at, 'clock'),
    ),
  );
}

// Puts a message in created_at order (messages can arrive from a page, a send or the stream);
// returns false when it is already shown.
function insertMessage(m) {
  const conv = state.conv;
  if (!conv || conv.seen.has(m.uuid)) return false;
  conv.seen.add(m.uuid);
  const list = $('messages');
  const node = messageNode(m);
  const at = parseTime(m.created_at);
  let before = null;
  for (let child = list.lastElementChild; child; child = child.previousElementSibling) {
    if (parseTime(child.dataset.createdAt) <= at) break;
    before = child;
  }
  list.insertBefore(node, before);
  return true;
}

// A message that arrived now (sent, streamed or polled) for the open conversation.
function addLiveMessage(m) {
  const stick = nearBottom();
  if (!insertMessage(m)) return;
  $('history-status').textContent = '';
  const mine = m.handle === state.session.handle;
  if (stick || mine) scrollToBottom();
  if (!mine) announce(`New message from ${m.display_name || m.handle}: ${m.message}`);
}

// ---------------------------------------------------------------------------------------------
// Sending

function updateCounter() {
  const text = $('composer').value;
  const n = codePoints(text);
  const over = n > MAX_CHARS;
  const counter = $('counter');
  const wasOver = counter.classList.contains('over');
  counter.textContent = over
    ? `${n} / ${MAX_CHARS} (${n - MAX_CHARS} too many)`
    : `${n} / ${MAX_CHARS}`;
  counter.classList.toggle('over', over);
  $('composer').setAttribute('aria-invalid', over ? 'true' : 'false');
  $('send-button').disabled = over || text.trim() === '';
  if (over && !wasOver) announce(`Too long: messages can be at most ${MAX_CHARS} characters.`);
  return { n, over };
}

function setSendError(text) {
  const node = $('send-error');
  node.textContent = text || '';
  show(node, Boolean(text));
}

async function onSend(event) {
  event.preventDefault();
  const conv = state.conv;
  if (!conv) return;
  const composer = $('composer');
  const text = composer.value;
  const { over } = updateCounter();
  if (over) {
    setSendError(ERROR_TEXT.message_exceed_max_chars);
    return;
  }
  if (text.trim() === '') {
    setSendError(ERROR_TEXT.message_blank);
    return;
  }
  setSendError('');
  $('send-button').disabled = true;
  const body = conv.newHandle
    ? { message: text, handle: conv.newHandle }
    : { message: text, message_group_uuid: conv.uuid };
  let created;
  try {
    ({ data: created } = await api('/api/messages', { method: 'POST', body }));
  } catch (error) {
    updateCounter();
    if (error instanceof ApiError && error.status === 422 && Array.isArray(error.body)) {
      setSendError(error.body.map((code) => ERROR_TEXT[code] || code).join(' '));
    } else if (error instanceof ApiError && error.status === 403) {
      setSendError('Not sent: you are not a member of this conversation.');
    } else if (error instanceof ApiError && error.status === 404) {
      setSendError(
        conv.newHandle ? `Not sent: there is no user @${conv.newHandle}.` : 'Not sent: this conversation does not exist.',
      );
    } else if (error instanceof NetworkError) {
      setSendError("Not sent: can't reach the server. Your message is kept; try again.");
    } else if (!(error instanceof ApiError && error.status === 401)) {
      setSendError(`Not sent (${error.message}).`);
    }
    return;
  }
  composer.value = '';
  updateCounter();
  const groupUuid = created.message_group_uuid || conv.uuid;
  const other = conv.other || state.groups.find((g) => g.uuid === groupUuid);
  if (other) {
    upsertGroup({
      uuid: groupUuid,
      display_name: other.display_name,
      handle: other.handle,
      message: created.message,
      created_at: created.created_at,
    });
  }
  if (conv.newHandle) {
    // The conversation exists now: show it under its own address.
    location.hash = `#/g/${encodeURIComponent(groupUuid)}`;
    return;
  }
  if (state.conv === conv) addLiveMessage(created);
  composer.focus();
}

function onComposerKey(event) {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $('send-form').requestSubmit();
  }
}

// ---------------------------------------------------------------------------------------------
// Live updates: Server-Sent Events, or polling when the server has no /api/events

function stopLive() {
  const live = state.live;
  if (live.source) live.source.close();
  live.source = null;
  clearTimeout(live.retryTimer);
  clearInterval(live.pollTimer);
  live.pollTimer = 0;
  live.retryTimer = 0;
}

function startLive() {
  stopLive();
  if (!state.session) return;
  const live = state.live;
  if (live.mode === 'poll') {
    live.pollTimer = setInterval(resync, POLL_MS);
    return;
  }
  const url = `/api/events?access_token=${encodeURIComponent(state.session.token)}`;
  const source = new EventSource(url);
  live.source = source;
  source.addEventListener('open', () => {
    live.backoff = 1000;
    if (live.broken) {
      live.broken = false;
      resync();
    }
  });
  source.addEventListener('message', (event) => onStreamMessage(event.data));
  source.addEventListener('group', (event) => onStreamGroup(event.data));
  source.addEventListener('error', () => {
    live.broken = true;
    // CONNECTING: the browser retries by itself. CLOSED: the server refused the stream.
    if (source.readyState === EventSource.CLOSED) onStreamClosed(source, url);
  });
}

// Asks the endpoint why it refused: 404 (no event stream on this server) switches to polling,
// 401 ends the session, anything else retries with backoff.
async function onStreamClosed(source, url) {
  const live = state.live;
  if (live.source !== source) return;
  live.source = null;
  let status = 0;
  const abort = new AbortController();
  try {
    const response = await fetch(url, { signal: abort.signal, cache: 'no-store' });
    status = response.status;
  } catch {
    status = 0;
  } finally {
    abort.abort();
  }
  if (!state.session || live.source) return;
  if (status === 404) {
    console.info('cruddur: the server has no /api/events; polling for new messages instead');
    live.mode = 'poll';
    startLive();
  } else if (status === 401) {
    signOut('Your session has expired or is no longer valid. Please sign in again.');
  } else {
    live.retryTimer = setTimeout(startLive, live.backoff);
    live.backoff = Math.min(live.backoff * 2, 30000);
  }
}

function parseEvent(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

function onStreamMessage(data) {
  const m = parseEvent(data);
  if (!m || !m.uuid) return;
  const groupUuid = m.message_group_uuid;
  if (state.conv && state.conv.uuid === groupUuid) addLiveMessage(m);
  else if (state.session && m.handle !== state.session.handle) {
    announce(`New message from ${m.display_name || m.handle}.`);
  }
  const group = state.groups.find((g) => g.uuid === groupUuid);
  if (group) {
    upsertGroup({ uuid: groupUuid, message: m.message, created_at: m.created_at });
  }
  // An unknown conversation arrives as its own `group` event.
}

function onStreamGroup(data) {
  const g = parseEvent(data);
  if (!g || !g.uuid) return;
  upsertGroup(g);
}

// Brings the list and the open conversation up to date (after polling, a reconnect or the
// network coming back).
async function resync() {
  if (!state.session) return;
  let groups;
  try {
    ({ data: groups } = await api('/api/message_groups'));
  } catch {
    return;
  }
  if (!state.session || !Array.isArray(groups)) return;
  const before = new Map(state.groups.map((g) => [g.uuid, g.created_at]));
  state.groups = groups;
  sortGroups();
  renderGroups();
  const conv = state.conv;
  if (!conv) {
    // A conversation that failed to load while offline opens now.
    if (currentRoute().name === 'group') route();
    return;
  }
  if (!conv.uuid) return;
  const changed = before.get(conv.uuid) !== groups.find((g) => g.uuid === conv.uuid)?.created_at;
  if (!changed && conv.seen.size) return;
  try {
    const { data } = await api(`/api/messages/${encodeURIComponent(conv.uuid)}`);
    if (state.conv !== conv || !Array.isArray(data)) return;
    for (const m of data) addLiveMessage(m);
  } catch {
    // The banner or the session handling has already said what went wrong.
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up

function wire() {
  for (const button of document.querySelectorAll('.demo-user')) {
    button.addEventListener('click', async () => {
      const session = await devSignIn(button.dataset.handle);
      if (session) await enterApp(session, true);
    });
  }
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    tokenSignIn($('token-input').value);
  });
  $('sign-out').addEventListener('click', () => {
    history.replaceState(null, '', '#/');
    signOut('');
  });
  $('banner-retry').addEventListener('click', () => resync());
  $('conversation-list').addEventListener('keydown', onListKey);
  $('new-form').addEventListener('submit', onNewSubmit);
  $('new-handle').addEventListener('input', () => setNewError(''));
  $('send-form').addEventListener('submit', onSend);
  $('composer').addEventListener('input', () => {
    setSendError('');
    updateCounter();
  });
  $('composer').addEventListener('keydown', onComposerKey);
  $('scroller').addEventListener('scroll', onScroll, { passive: true });
  $('load-older').addEventListener('click', () => loadOlder());
  $('back-link').addEventListener('click', () => {
    // Back to the list keeps the keyboard where it was.
    const uuid = state.conv?.uuid;
    setTimeout(() => {
      const link = uuid && $('conversation-list').querySelector(`[data-uuid="${CSS.escape(uuid)}"]`);
      (link || $('inbox-title')).focus?.();
    }, 0);
  });
  window.addEventListener('hashchange', () => route());
  window.addEventListener('offline', () => networkDown());
  window.addEventListener('online', () => resync());
  setInterval(refreshTimes, 30000);
}

async function boot() {
  wire();
  const session = loadSession();
  if (session) {
    await enterApp(session, false);
    if (!state.session) {
      show($('sign-in'), true);
      $('sign-in-title').focus();
    }
  } else {
    show($('sign-in'), true);
  }
}

boot();
