// What every page shares: the API client (401 -> login page), the header, the synthetic-data watermark.
import { t, apply, initI18n, setLanguage, language, LANGUAGES } from './i18n.js';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function toLogin() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}`);
}

/** Call the API with the session cookie; a 401 sends the browser to the login page. */
export async function api(path, { method = 'GET', body, redirectOn401 = true } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && redirectOn401) {
    toLogin();
    // The page is going away: wait for it rather than fail (no error to report for a missing sign-in).
    return new Promise(() => {});
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' ? data.error : `HTTP ${response.status}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

/** Remove children and return the element. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Create an element: el('td', {className: 'x', text: 'y'}, child...). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'className') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const NAV = [
  ['/map', 'nav.map'],
  ['/review', 'nav.review'],
  ['/import', 'nav.import'],
  ['/dashboard', 'nav.dashboard'],
];

function languageSelect() {
  const select = el('select', { id: 'language', 'data-i18n-aria-label': 'lang.choose' });
  for (const lang of LANGUAGES) {
    const option = el('option', { value: lang, 'data-i18n': `lang.${lang}` });
    select.append(option);
  }
  select.value = language();
  select.addEventListener('change', () => setLanguage(select.value));
  return select;
}

function header(active, me) {
  const nav = el('nav', { className: 'nav' });
  for (const [href, key] of NAV) {
    const link = el('a', { href, 'data-i18n': key });
    if (href === active) link.classList.add('active');
    nav.append(link);
  }
  const who = el('span', { className: 'who', id: 'who' });
  if (me) {
    who.append(me.name, ' · ', el('span', { 'data-i18n': `role.${me.role}` }));
    if (me.organisation) who.append(` · ${me.organisation}`);
  }
  const logout = el('button', { type: 'button', id: 'logout', className: 'link', 'data-i18n': 'nav.logout' });
  logout.addEventListener('click', async () => {
    try {
      await api('/api/logout', { method: 'POST', redirectOn401: false });
    } finally {
      location.assign('/login');
    }
  });
  return el(
    'header',
    { className: 'top' },
    el('a', { href: '/map', className: 'brand', 'data-i18n': 'app.name' }),
    nav,
    el('span', { className: 'spacer' }),
    who,
    languageSelect(),
    me ? logout : null,
  );
}

/** Show the watermark when the database holds synthetic demo data. */
export async function watermark() {
  try {
    const response = await fetch('/web/synthetic', { credentials: 'same-origin' });
    const data = await response.json();
    const existing = document.getElementById('watermark');
    if (data.synthetic && !existing) {
      document.body.append(el('div', { id: 'watermark', className: 'watermark', 'data-i18n': 'watermark.synthetic' }));
      apply();
    }
  } catch {
    // No flag, no watermark: the page still works.
  }
}

/** Start a signed-in page: strings, who is signed in (401 -> login), header, watermark. Returns the user. */
export async function startPage(active) {
  await initI18n();
  const me = await api('/api/me');
  document.body.prepend(header(active, me));
  apply();
  await watermark();
  return me;
}

/** Start the login page (no API call needs a session). */
export async function startPublicPage() {
  await initI18n();
  document.body.prepend(header(null, null));
  apply();
  await watermark();
}

/** A status line for errors and confirmations. */
export function say(target, message, kind = 'info') {
  target.textContent = message;
  target.className = `message ${kind}`;
}
