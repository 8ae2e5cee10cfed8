// The dashboard: the national land release ledger, a bar per admin area (inline SVG) and the table.
import { api, clear, el, startPage } from './common.js';
import { t, hectares, formatNumber, onLanguageChange } from './i18n.js';

const PARTS = ['cancelled', 'reduced', 'cleared', 'remaining'];
const COLOURS = { cancelled: '#8ecae6', reduced: '#2a9d8f', cleared: '#55a630', remaining: '#d7263d' };
const SVG = 'http://www.w3.org/2000/svg';
let report = null;

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  return node;
}

function totals() {
  const box = clear(document.getElementById('totals'));
  const tot = report.totals;
  const card = (key, text, id) => el('div', { className: 'card', id }, el('div', { className: 'figure', text }), el('div', { className: 'label', text: t(key) }));
  box.append(
    card('dashboard.hazards', formatNumber(tot.hazards), 'total-hazards'),
    card('ledger.estimated_ha', hectares(tot.estimated_m2), 'total-estimated'),
    ...PARTS.map((part) => card(`ledger.${part}_ha`, hectares(tot[`${part}_m2`]), `total-${part}`)),
  );
  const released = tot.cancelled_m2 + tot.reduced_m2 + tot.cleared_m2;
  document.getElementById('released-share').textContent = tot.estimated_m2
    ? t('dashboard.released_share', { percent: formatNumber((100 * released) / tot.estimated_m2, 1) })
    : '';
}

function chart() {
  const holder = clear(document.getElementById('chart'));
  const groups = report.groups;
  const rowHeight = 26;
  const labelWidth = 220;
  const width = 900;
  const barWidth = width - labelWidth - 90;
  const height = groups.length * rowHeight + 30;
  const max = Math.max(1, ...groups.map((g) => g.estimated_m2));
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', id: 'admin-chart' });
  const title = svg('title');
  title.textContent = t('dashboard.chart_title');
  root.append(title);
  groups.forEach((g, i) => {
    const y = i * rowHeight + 4;
    const label = svg('text', { x: labelWidth - 8, y: y + rowHeight / 2 + 4, 'text-anchor': 'end', class: 'chart-label' });
    label.textContent = g.name;
    root.append(label);
    let x = labelWidth;
    for (const part of PARTS) {
      const w = (barWidth * (g[`${part}_m2`] || 0)) / max;
      const rect = svg('rect', { x, y, width: Math.max(0, w), height: rowHeight - 8, fill: COLOURS[part] });
      const tip = svg('title');
      tip.textContent = `${g.name}: ${t(`ledger.${part}`)} ${hectares(g[`${part}_m2`])} ${t('unit.ha')}`;
      rect.append(tip);
      root.append(rect);
      x += w;
    }
    const figure = svg('text', { x: x + 6, y: y + rowHeight / 2 + 4, class: 'chart-figure' });
    figure.textContent = `${hectares(g.estimated_m2)} ${t('unit.ha')}`;
    root.append(figure);
  });
  let lx = labelWidth;
  const ly = groups.length * rowHeight + 12;
  for (const part of PARTS) {
    root.append(svg('rect', { x: lx, y: ly, width: 12, height: 12, fill: COLOURS[part] }));
    const text = svg('text', { x: lx + 16, y: ly + 10, class: 'chart-legend' });
    text.textContent = t(`ledger.${part}`);
    root.append(text);
    lx += 130;
  }
  holder.append(root);
}

function table() {
  const body = clear(document.getElementById('admin-table'));
  for (const g of report.groups) {
    body.append(
      el('tr', {}, el('td', { text: g.name }), el('td', { className: 'num', text: formatNumber(g.hazards) }),
        el('td', { className: 'num', text: hectares(g.estimated_m2) }),
        ...PARTS.map((part) => el('td', { className: 'num', text: hectares(g[`${part}_m2`]) }))),
    );
  }
  const tot = report.totals;
  body.append(
    el('tr', { className: 'total' }, el('td', { text: t('dashboard.total') }), el('td', { className: 'num', text: formatNumber(tot.hazards) }),
      el('td', { className: 'num', text: hectares(tot.estimated_m2) }),
      ...PARTS.map((part) => el('td', { className: 'num', text: hectares(tot[`${part}_m2`]) }))),
  );
  document.getElementById('generated').textContent = t('dashboard.generated', { when: new Date(report.generated_at).toLocaleString() });
  if (report.unlinked_outcomes) {
    document.getElementById('unlinked').textContent = t('dashboard.unlinked', { count: report.unlinked_outcomes });
  }
}

function render() {
  if (!report) return;
  totals();
  chart();
  table();
}

async function main() {
  await startPage('/dashboard');
  report = await api('/api/reports/land-release?by=admin');
  render();
  onLanguageChange(render);
  document.body.dataset.ready = 'true';
}

main();
