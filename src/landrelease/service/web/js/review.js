// The review queue: reports submitted by operators; reviewers approve (as a new record or as an update of an
// existing one, with the diff against it) or reject with a reason. Operators see their organisation's reports.
import { api, clear, el, say, startPage } from './common.js';
import { t, term, onLanguageChange } from './i18n.js';

let me = null;
let list = [];
let current = null; // the submission shown, with its diff

function when(text) {
  return text ? new Date(text).toLocaleString() : '–';
}

function value(v) {
  return v === null || v === undefined ? '–' : String(v);
}

async function loadList() {
  const status = document.getElementById('status-select').value;
  const query = status ? `?status=${encodeURIComponent(status)}&limit=1000` : '?limit=1000';
  const data = await api(`/api/submissions${query}`);
  list = data.submissions;
  renderList();
}

function renderList() {
  const body = clear(document.getElementById('queue-body'));
  document.getElementById('queue-empty').hidden = list.length > 0;
  for (const s of list) {
    const open = el('button', { type: 'button', className: 'link', text: s.id, dataset: { submission: s.id } });
    open.addEventListener('click', () => openSubmission(s.id));
    body.append(
      el(
        'tr',
        { className: current && current.id === s.id ? 'selected' : null },
        el('td', {}, open),
        el('td', { text: term('layer', s.layer) }),
        el('td', { text: s.target_id ? t('review.update_of', { id: s.target_id }) : t('review.new_record') }),
        el('td', { text: s.author }),
        el('td', { text: s.organisation || '–' }),
        el('td', { text: when(s.created_at) }),
        el('td', {}, el('span', { className: `tag tag-${s.status}`, text: term('report', s.status) })),
      ),
    );
  }
}

async function openSubmission(id) {
  current = await api(`/api/submissions/${encodeURIComponent(id)}`);
  renderList();
  renderCurrent();
}

function attributesTable(attributes) {
  const table = el('table', { className: 'facts' });
  for (const [name, v] of Object.entries(attributes)) {
    if (v === null || v === undefined) continue;
    table.append(el('tr', {}, el('th', { text: name }), el('td', { text: value(v) })));
  }
  return table;
}

function diffBlock(diff) {
  const section = el('section', { id: 'diff' }, el('h3', { text: t('review.diff', { id: diff.target_id }) }));
  if (diff.missing) {
    section.append(el('p', { className: 'message error', text: t('review.target_missing') }));
    return section;
  }
  if (diff.stale) {
    section.append(
      el('p', {
        className: 'message warning',
        text: t('review.stale', { seen: value(diff.target_version), now: value(diff.current_version) }),
      }),
    );
  }
  const table = el('table', { className: 'diff' });
  table.append(
    el('tr', {}, el('th', { text: t('review.field') }), el('th', { text: t('review.current') }), el('th', { text: t('review.proposed') })),
  );
  for (const change of diff.fields) {
    table.append(
      el('tr', {}, el('td', { text: change.field }), el('td', { className: 'old', text: value(change.current) }), el('td', { className: 'new', text: value(change.proposed) })),
    );
  }
  if (!diff.fields.length) table.append(el('tr', {}, el('td', { colspan: '3', text: t('review.no_field_changes') })));
  section.append(table, el('p', { text: diff.geometry_changed ? t('review.geometry_changed') : t('review.geometry_same') }));
  return section;
}

function actions(s) {
  const message = el('p', { id: 'review-message', className: 'message', role: 'status' });
  const reason = el('textarea', { id: 'decision-reason', rows: '2', maxlength: '2000', 'data-i18n-placeholder': 'review.reason' });
  reason.placeholder = t('review.reason');
  const targetId = el('input', { id: 'target-id', value: s.target_id || '', placeholder: 'HZ-000042', maxlength: '40' });
  const targetVersion = el('input', {
    id: 'target-version',
    type: 'number',
    min: '1',
    value: s.diff && s.diff.current_version ? String(s.diff.current_version) : s.target_version || '',
  });
  const decide = async (path, body, doneKey) => {
    try {
      await api(`/api/submissions/${encodeURIComponent(s.id)}/${path}`, { method: 'POST', body });
      say(message, t(doneKey, { id: s.id }), 'ok');
      current = null;
      await loadList();
      document.getElementById('review-done').textContent = t(doneKey, { id: s.id });
      renderCurrent();
    } catch (error) {
      say(message, t('review.failed', { error: error.message }), 'error');
    }
  };
  const asNew = el('button', { type: 'button', id: 'approve-new', text: t('review.approve_new') });
  asNew.addEventListener('click', () => decide('approve', { reconcile: 'new', reason: reason.value }, 'review.approved'));
  const asExisting = el('button', { type: 'button', id: 'approve-existing', text: t('review.approve_existing') });
  asExisting.addEventListener('click', () =>
    decide(
      'approve',
      { reconcile: 'existing', target_id: targetId.value.trim(), target_version: Number(targetVersion.value), reason: reason.value },
      'review.approved',
    ),
  );
  const reject = el('button', { type: 'button', id: 'reject', className: 'danger', text: t('review.reject') });
  reject.addEventListener('click', () => {
    if (!reason.value.trim()) {
      say(message, t('review.reason_needed'), 'error');
      return;
    }
    decide('reject', { reason: reason.value.trim() }, 'review.rejected');
  });
  return el(
    'section',
    { className: 'actions' },
    el('h3', { text: t('review.decide') }),
    el('label', {}, el('span', { text: t('review.reason') }), reason),
    el('div', { className: 'buttons' }, asNew),
    el(
      'div',
      { className: 'buttons' },
      el('label', {}, el('span', { text: t('review.target_id') }), targetId),
      el('label', {}, el('span', { text: t('review.target_version') }), targetVersion),
      asExisting,
    ),
    el('div', { className: 'buttons' }, reject),
    message,
  );
}

function renderCurrent() {
  const pane = clear(document.getElementById('submission'));
  if (!current) {
    pane.append(el('p', { className: 'hint', text: t('review.pick') }));
    return;
  }
  const s = current;
  pane.append(
    el('h2', { id: 'submission-title', text: `${s.id} · ${term('layer', s.layer)}` }),
    el('p', {
      text: t('review.by', { author: s.author, org: s.organisation || '–', when: when(s.created_at) }),
    }),
    el('p', {}, el('span', { className: `tag tag-${s.status}`, text: term('report', s.status) }), s.reason ? ` ${s.reason}` : ''),
  );
  if (s.record_id) pane.append(el('p', { text: t('review.record', { id: s.record_id, version: value(s.record_version) }) }));
  pane.append(el('h3', { text: t('review.reported') }), attributesTable(s.attributes));
  if (s.geometry) pane.append(el('p', { className: 'hint', text: t('review.has_geometry', { type: s.geometry.type }) }));
  if (s.diff) pane.append(diffBlock(s.diff));
  if (s.status === 'submitted' && me.role !== 'operator') pane.append(actions(s));
}

async function main() {
  me = await startPage('/review');
  if (me.role === 'viewer') {
    document.getElementById('review').hidden = true;
    document.getElementById('no-access').hidden = false;
    return;
  }
  const select = document.getElementById('status-select');
  select.addEventListener('change', () => loadList());
  document.getElementById('refresh').addEventListener('click', () => loadList());
  onLanguageChange(() => {
    renderList();
    renderCurrent();
  });
  renderCurrent();
  await loadList();
  document.body.dataset.ready = 'true';
}

main();
