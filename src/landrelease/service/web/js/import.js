// The import page: upload a file in any format the importer reads; the server checks it with the importer's
// rules and answers with the validation report (nothing written); "submit" sends the same file again with
// confirm, and each valid feature becomes a report for review. National files go in with the command line.
import { ApiError, clear, el, say, startPage, toLogin } from './common.js';
import { t, apply, onLanguageChange } from './i18n.js';

const SUBMITTABLE = ['hazards', 'activities', 'outcomes', 'finds', 'accidents', 'eore'];
const KINDS = ['cleared', 'reduced', 'cancelled'];
let report = null;

function chosenFile() {
  return document.getElementById('import-file').files[0];
}

function command() {
  const layer = document.getElementById('import-layer').value;
  const file = chosenFile();
  const name = file ? file.name : 'FILE';
  const quoted = /^[\w.\-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
  const kind = layer === 'outcomes' ? ` --kind ${document.getElementById('import-kind').value}` : '';
  const repair = document.getElementById('import-repair').checked ? ' --on-invalid repair' : '';
  document.getElementById('cli-command').textContent = `landrelease --db programme.gpkg import ${layer} ${quoted}${kind}${repair} --json`;
}

function changed() {
  report = null;
  document.getElementById('import-kind-label').hidden = document.getElementById('import-layer').value !== 'outcomes';
  document.getElementById('import-check').disabled = !chosenFile();
  document.getElementById('import-submit').disabled = true;
  delete document.body.dataset.importChecked;
  delete document.body.dataset.importDone;
  command();
  render();
}

async function send(confirm) {
  const form = new FormData();
  const layer = document.getElementById('import-layer').value;
  form.append('file', chosenFile());
  form.append('layer', layer);
  if (layer === 'outcomes') form.append('kind', document.getElementById('import-kind').value);
  form.append('on_invalid', document.getElementById('import-repair').checked ? 'repair' : 'reject');
  form.append('confirm', confirm ? 'true' : 'false');
  const response = await fetch('/api/imports', { method: 'POST', body: form, credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (response.status === 401) {
    toLogin();
    return new Promise(() => {});
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data && typeof data.error === 'string' ? data.error : `HTTP ${response.status}`);
  return data;
}

function rows() {
  if (!report) return [];
  const out = [];
  for (const e of report.errors) out.push({ index: e.index, result: t('import.refused'), detail: e.reason, className: 'refused' });
  for (const r of report.repairs) out.push({ index: r.index, result: t('import.repaired'), detail: r.reason, className: 'ok' });
  for (const s of report.submitted) out.push({ index: s.index, result: t('import.accepted'), detail: t('import.submitted_as', { id: s.id }), className: 'ok' });
  return out.sort((a, b) => a.index - b.index);
}

function render() {
  const body = clear(document.getElementById('import-results'));
  for (const r of rows()) {
    body.append(el('tr', { className: r.className }, el('td', { text: String(r.index + 1) }), el('td', { text: r.result }), el('td', { text: r.detail })));
  }
  const summary = document.getElementById('import-summary');
  if (!report) {
    summary.textContent = '';
  } else if (report.confirmed) {
    say(summary, t('import.submitted', { submitted: report.submitted.length, refused: report.errors.length }), 'info');
  } else if (report.valid === 0) {
    say(summary, t('import.none_valid'), 'error');
  } else {
    say(summary, t('import.checked', report), 'info');
  }
}

async function run(confirm) {
  const message = document.getElementById('import-message');
  const check = document.getElementById('import-check');
  const submit = document.getElementById('import-submit');
  check.disabled = true;
  submit.disabled = true;
  say(message, t('import.checking', { file: chosenFile().name }), 'info');
  try {
    report = await send(confirm);
    say(message, '', 'info');
  } catch (error) {
    report = null;
    say(message, t('import.unreadable', { error: error.message }), 'error');
  }
  render();
  check.disabled = false;
  submit.disabled = confirm || !report || report.valid === 0;
  document.body.dataset[confirm ? 'importDone' : 'importChecked'] = 'true';
}

async function main() {
  const me = await startPage('/import');
  const layerSelect = document.getElementById('import-layer');
  for (const layer of SUBMITTABLE) layerSelect.append(el('option', { value: layer, 'data-i18n': `layer.${layer}` }));
  const kindSelect = document.getElementById('import-kind');
  for (const kind of KINDS) kindSelect.append(el('option', { value: kind, 'data-i18n': `kind.${kind}` }));
  onLanguageChange(render);
  apply(layerSelect);
  apply(kindSelect);
  for (const id of ['import-layer', 'import-kind', 'import-repair', 'import-file']) {
    document.getElementById(id).addEventListener('change', changed);
  }
  document.getElementById('import-check').addEventListener('click', () => run(false));
  document.getElementById('import-submit').addEventListener('click', () => run(true));
  if (me.role === 'viewer') {
    document.getElementById('upload').hidden = true;
    say(document.getElementById('import-message'), t('import.viewer'), 'info');
  }
  changed();
  document.body.dataset.ready = 'true';
}

main();
