// The map page: hazards, outcomes, finds, accidents and EORE from vector tiles over the admin areas;
// layer toggles, class and status filters, and a detail panel with a hazard's ledger and story.
import * as maplibregl from '../vendor/maplibre-gl.mjs';
import { api, clear, el, say, startPage } from './common.js';
import { t, term, apply, hectares, formatNumber, onLanguageChange } from './i18n.js';
import {
  mapStyle,
  hatchImage,
  hazardFilter,
  LAYER_GROUPS,
  HAZARD_CLASSES,
  HAZARD_STATUSES,
  CLASS_COLOURS,
  KIND_COLOURS,
  POINT_COLOURS,
  RISK_COLOURS,
} from './map-style.js';

// Tests (and curious people) can wait for the map: __mapIdle turns true on maplibre's 'idle' event.
window.__mapIdle = false;
window.__mapErrors = [];

async function initialBounds() {
  try {
    const collection = await api('/ogc/collections/hazards');
    const bbox = collection.extent.spatial.bbox[0];
    if (bbox && bbox[0] > -180) return [[bbox[0], bbox[1]], [bbox[2], bbox[3]]];
  } catch (error) {
    if (error.status === 401) throw error;
  }
  const page = await api('/api/hazards?limit=1000');
  let [minx, miny, maxx, maxy] = [180, 90, -180, -90];
  const visit = (coords) => {
    if (typeof coords[0] === 'number') {
      minx = Math.min(minx, coords[0]);
      maxx = Math.max(maxx, coords[0]);
      miny = Math.min(miny, coords[1]);
      maxy = Math.max(maxy, coords[1]);
    } else coords.forEach(visit);
  };
  for (const feature of page.features) if (feature.geometry) visit(feature.geometry.coordinates);
  return minx <= maxx ? [[minx, miny], [maxx, maxy]] : [[-20, -40], [60, 60]];
}

function checkboxList(container, values, group, colours, onChange) {
  for (const value of values) {
    const box = el('input', { type: 'checkbox', value, checked: 'checked', dataset: { group } });
    box.addEventListener('change', onChange);
    const swatch = el('span', { className: 'swatch' });
    if (colours && colours[value]) swatch.style.background = colours[value];
    container.append(el('label', { className: 'check' }, box, swatch, el('span', { 'data-i18n': `${group}.${value}` })));
  }
}

function checked(container) {
  return [...container.querySelectorAll('input:checked')].map((box) => box.value);
}

function buildControls(map) {
  const layers = document.getElementById('layer-toggles');
  const colours = {
    hazards: CLASS_COLOURS.CHA,
    outcomes: KIND_COLOURS.cleared,
    finds: POINT_COLOURS.finds,
    accidents: POINT_COLOURS.accidents,
    eore: POINT_COLOURS.eore,
    risk_cells: RISK_COLOURS[3][1],
    admin_areas: '#8d8a80',
  };
  checkboxList(layers, Object.keys(LAYER_GROUPS), 'layer', colours, (event) => {
    const visibility = event.target.checked ? 'visible' : 'none';
    for (const id of LAYER_GROUPS[event.target.value]) map.setLayoutProperty(id, 'visibility', visibility);
  });
  const classes = document.getElementById('class-filter');
  const statuses = document.getElementById('status-filter');
  const refilter = () => {
    const filter = hazardFilter(checked(classes), checked(statuses));
    map.setFilter('hazards-fill', filter);
    map.setFilter('hazards-hatch', ['all', filter, ['==', ['get', 'status'], 'worked_on']]);
    map.setFilter('hazards-line', ['all', filter, ['in', ['get', 'status'], ['literal', ['active', 'worked_on']]]]);
    map.setFilter('hazards-line-closed', ['all', filter, ['in', ['get', 'status'], ['literal', ['closed', 'handed_over']]]]);
  };
  checkboxList(classes, HAZARD_CLASSES, 'class', CLASS_COLOURS, refilter);
  checkboxList(statuses, HAZARD_STATUSES, 'status', null, refilter);
  const kinds = document.getElementById('kind-legend');
  for (const [kind, colour] of Object.entries(KIND_COLOURS)) {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = colour;
    kinds.append(el('div', { className: 'legend-row' }, swatch, el('span', { 'data-i18n': `kind.${kind}` })));
  }
  const risk = document.getElementById('risk-legend');
  const ramp = el('div', { className: 'risk-ramp', 'aria-hidden': 'true' });
  ramp.style.background = `linear-gradient(to right, ${RISK_COLOURS.map(([at, colour]) => `${colour} ${at * 100}%`).join(', ')})`;
  risk.append(ramp, el('div', { className: 'risk-ends' }, el('span', { text: '0' }), el('span', { text: '1' })));
}

// --- the detail panel ---------------------------------------------------------------------------

let shown = null; // {hazard, outcomes, activities, finds, history}: re-rendered on a language switch

function row(label, value) {
  return el('tr', {}, el('th', { text: label }), el('td', { text: value ?? '–' }));
}

function ledgerBlock(p) {
  const parts = ['cancelled', 'reduced', 'cleared', 'remaining'];
  const table = el('table', { className: 'ledger', id: 'ledger' });
  table.append(row(t('ledger.estimated'), hectares(p.estimated_m2)));
  for (const part of parts) {
    const tr = row(t(`ledger.${part}`), hectares(p[`${part}_m2`]));
    tr.dataset.part = part;
    table.append(tr);
  }
  const bar = el('div', { className: 'ledger-bar', 'aria-hidden': 'true' });
  const total = p.estimated_m2 || 0;
  for (const part of parts) {
    const piece = el('span', { className: `piece piece-${part}` });
    piece.style.width = total > 0 ? `${(100 * (p[`${part}_m2`] || 0)) / total}%` : '0';
    bar.append(piece);
  }
  return el('section', {}, el('h3', { text: t('detail.ledger') }), el('p', { className: 'hint', text: t('detail.ledger_hint') }), table, bar);
}

function listBlock(titleKey, items, render, emptyKey) {
  const section = el('section', {}, el('h3', { text: `${t(titleKey)} (${items.length})` }));
  if (!items.length) section.append(el('p', { className: 'hint', text: t(emptyKey) }));
  const list = el('ul', { className: 'items' });
  for (const item of items) list.append(el('li', {}, ...render(item)));
  section.append(list);
  return section;
}

function renderDetail() {
  const panel = document.getElementById('detail');
  const body = clear(document.getElementById('detail-body'));
  if (!shown) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const { hazard, outcomes, activities, finds, history } = shown;
  const p = hazard.properties;
  body.append(el('h2', { id: 'detail-title', text: `${hazard.id}${p.name ? ` · ${p.name}` : ''}` }));
  const facts = el('table', { className: 'facts' });
  facts.append(
    row(t('field.hazard_class'), term('class', p.hazard_class)),
    row(t('field.status'), term('status', p.status)),
    row(t('field.contamination'), p.contamination),
    row(t('field.operator'), p.operator),
    row(t('field.admin_area'), p.admin_area),
    row(t('field.reported_date'), p.reported_date),
    row(t('field.version'), String(hazard.version)),
  );
  body.append(facts, ledgerBlock(p));
  const byDate = (key) => (a, b) => String(a.properties[key] || '').localeCompare(String(b.properties[key] || ''));
  body.append(
    listBlock('detail.activities', [...activities].sort(byDate('start_date')), (a) => [
      el('strong', { text: term('activity', a.properties.activity_type) }),
      ` · ${term('activity_status', a.properties.status)} · ${a.properties.start_date || '?'} – ${a.properties.end_date || '…'}`,
      a.properties.organisation ? ` · ${a.properties.organisation}` : '',
      a.properties.team ? ` · ${a.properties.team}` : '',
    ], 'detail.none'),
    listBlock('detail.outcomes', [...outcomes].sort(byDate('release_date')), (o) => [
      el('span', { className: `tag tag-${o.properties.kind}`, text: term('kind', o.properties.kind) }),
      ` ${hectares(o.properties.released_m2)} ${t('unit.ha')} · ${o.properties.release_date || '?'}`,
      o.properties.operator ? ` · ${o.properties.operator}` : '',
    ], 'detail.none'),
    listBlock('detail.finds', finds, (f) => [
      el('strong', { text: f.properties.ordnance_model || f.properties.ordnance_category || f.id }),
      ` · ${f.properties.ordnance_category || ''} ${f.properties.ordnance_subcategory || ''}`,
      ` · ${t('field.quantity')} ${formatNumber(f.properties.quantity)} · ${f.properties.found_date || '?'}`,
    ], 'detail.none'),
    listBlock('detail.history', history, (v) => [
      el('strong', { text: `v${v.version} ${term('action', v.action)}` }),
      ` · ${new Date(v.at).toLocaleString()} · ${v.author}`,
      v.reason ? ` · ${v.reason}` : '',
    ], 'detail.none'),
  );
}

async function showHazard(map, id) {
  map.setFilter('hazards-selected', ['==', ['get', 'id'], id]);
  const [hazard, outcomes, activities, finds, history] = await Promise.all([
    api(`/api/hazards/${encodeURIComponent(id)}`),
    api(`/api/outcomes?hazard_id=${encodeURIComponent(id)}&limit=1000`),
    api(`/api/activities?hazard_id=${encodeURIComponent(id)}&limit=1000`),
    api(`/api/finds?hazard_id=${encodeURIComponent(id)}&limit=1000`),
    api(`/api/hazards/${encodeURIComponent(id)}/history`),
  ]);
  shown = { hazard, outcomes: outcomes.features, activities: activities.features, finds: finds.features, history };
  renderDetail();
}

async function main() {
  await startPage('/map');
  const bounds = await initialBounds();
  const map = new maplibregl.Map({
    container: 'map',
    style: mapStyle(),
    bounds,
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    maxZoom: 19,
  });
  window.__map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('styleimagemissing', (event) => {
    if (event.id === 'hatch' && !map.hasImage('hatch')) map.addImage('hatch', hatchImage());
  });
  map.on('load', () => {
    if (!map.hasImage('hatch')) map.addImage('hatch', hatchImage());
  });
  map.on('idle', () => {
    window.__mapIdle = true;
  });
  map.on('movestart', () => {
    window.__mapIdle = false;
  });
  map.on('error', (event) => {
    window.__mapErrors.push(String(event.error && event.error.message));
  });
  buildControls(map);
  apply(document.querySelector('.sidebar'));
  const clickable = ['hazards-fill', 'hazards-line', 'hazards-line-closed'];
  map.on('click', (event) => {
    const box = [
      [event.point.x - 4, event.point.y - 4],
      [event.point.x + 4, event.point.y + 4],
    ];
    const hits = map.queryRenderedFeatures(box, { layers: clickable });
    if (hits.length) showHazard(map, hits[0].properties.id);
  });
  for (const id of clickable) {
    map.on('mouseenter', id, () => (map.getCanvas().style.cursor = 'pointer'));
    map.on('mouseleave', id, () => (map.getCanvas().style.cursor = ''));
  }
  document.getElementById('detail-close').addEventListener('click', () => {
    shown = null;
    map.setFilter('hazards-selected', ['==', ['get', 'id'], '']);
    renderDetail();
  });
  // Open a hazard by id (a search box): handy from a report, and how tests open one without clicking.
  document.getElementById('hazard-search').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = event.target.elements.id.value.trim().toUpperCase();
    if (id) showHazard(map, id).catch((error) => say(document.getElementById('map-message'), error.message, 'error'));
  });
  window.__showHazard = (id) => showHazard(map, id);
  onLanguageChange(renderDetail);
}

main();
