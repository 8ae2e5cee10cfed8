// The import page. The server has no upload route yet, so: (1) an operator's GeoJSON file can be sent as
// reports for review, one per feature, each checked by the API with the importer's rules (the table shows
// what was accepted and why anything was refused); (2) the command an IM officer runs to import any format.
import { api, clear, el, say, startPage } from './common.js';
import { t, apply, onLanguageChange } from './i18n.js';

const SUBMITTABLE = ['hazards', 'activities', 'outcomes', 'finds', 'accidents', 'eore'];
let features = [];
let results = [];

function scalar(v) {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function command() {
  const layer = document.getElementById('import-layer').value;
  const file = document.getElementById('import-file').files[0];
  const name = file ? file.name : 'FILE';
  const quoted = /^[\w.\-]+$/.test(name) ? name : `'${name.replace(/'/g, "'\\''")}'`;
  document.getElementById('cli-command').textContent = `landrelease --db programme.gpkg import ${layer} ${quoted} --json`;
}

async function readFile() {
  const message = document.getElementById('import-message');
  const file = document.getElementById('import-file').files[0];
  features = [];
  results = [];
  command();
  renderResults();
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    const list = data.type === 'FeatureCollection' ? data.features : data.type === 'Feature' ? [data] : null;
    if (!Array.isArray(list)) throw new Error(t('import.not_geojson'));
    features = list;
    say(message, t('import.read', { count: features.length }), 'info');
  } catch (error) {
    say(message, t('import.unreadable', { error: error.message }), 'error');
  }
  document.getElementById('import-submit').disabled = features.length === 0;
}

function renderResults() {
  const body = clear(document.getElementById('import-results'));
  for (const r of results) {
    body.append(
      el('tr', { className: r.ok ? 'ok' : 'refused' }, el('td', { text: String(r.index + 1) }), el('td', { text: r.ok ? t('import.accepted') : t('import.refused') }), el('td', { text: r.detail })),
    );
  }
  const accepted = results.filter((r) => r.ok).length;
  document.getElementById('import-summary').textContent = results.length
    ? t('import.summary', { accepted, refused: results.length - accepted })
    : '';
}

async function submitAll() {
  const layer = document.getElementById('import-layer').value;
  const button = document.getElementById('import-submit');
  button.disabled = true;
  results = [];
  for (const [index, feature] of features.entries()) {
    const attributes = {};
    for (const [k, v] of Object.entries((feature && feature.properties) || {})) if (scalar(v)) attributes[k] = v;
    try {
      const created = await api('/api/submissions', { method: 'POST', body: { layer, attributes, geometry: feature.geometry ?? null } });
      results.push({ index, ok: true, detail: t('import.submitted_as', { id: created.id }) });
    } catch (error) {
      if (error.status === 401) return;
      results.push({ index, ok: false, detail: error.message });
    }
    renderResults();
  }
  document.body.dataset.importDone = 'true';
}

async function main() {
  const me = await startPage('/import');
  const layerSelect = document.getElementById('import-layer');
  for (const layer of SUBMITTABLE) layerSelect.append(el('option', { value: layer, 'data-i18n': `layer.${layer}` }));
  onLanguageChange(renderResults);
  apply(layerSelect);
  layerSelect.addEventListener('change', command);
  document.getElementById('import-file').addEventListener('change', readFile);
  document.getElementById('import-submit').addEventListener('click', submitAll);
  if (me.role === 'viewer') {
    document.getElementById('upload').hidden = true;
    say(document.getElementById('import-message'), t('import.viewer'), 'info');
  }
  command();
  document.body.dataset.ready = 'true';
}

main();
