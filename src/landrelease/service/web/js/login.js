import { startPublicPage, say } from './common.js';
import { t } from './i18n.js';

function nextPage() {
  const next = new URLSearchParams(location.search).get('next') || '/map';
  // Only a path on this site: never an open redirect.
  return next.startsWith('/') && !next.startsWith('//') ? next : '/map';
}

async function main() {
  await startPublicPage();
  const form = document.getElementById('login-form');
  const message = document.getElementById('login-message');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: form.elements.name.value.trim(), password: form.elements.password.value };
    say(message, t('login.signing_in'));
    const response = await fetch('/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      location.assign(nextPage());
    } else {
      say(message, response.status === 401 ? t('login.wrong') : t('login.failed', { status: response.status }), 'error');
    }
  });
}

main();
