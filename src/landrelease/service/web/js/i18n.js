// Interface strings: every visible string comes from /static/i18n/{lang}.json (same keys in each language).
// Elements name their string with data-i18n (text), data-i18n-placeholder, data-i18n-title or data-i18n-aria-label.

export const LANGUAGES = ['en', 'uk'];
const STORAGE_KEY = 'landrelease.lang';
let strings = {};
let current = 'en';

export function language() {
  return current;
}

function preferred() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('uk') ? 'uk' : 'en';
}

async function load(lang) {
  const response = await fetch(`/static/i18n/${lang}.json`, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`i18n ${lang}: ${response.status}`);
  return response.json();
}

/** The string for `key`, with {name} placeholders filled from `vars`; the key itself if it is missing. */
export function t(key, vars = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A vocabulary term (a class, a status, a kind) in the interface language; the raw value if unknown. */
export function term(group, value) {
  if (value === null || value === undefined || value === '') return '–';
  const key = `${group}.${value}`;
  return Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : String(value);
}

/** Fill every data-i18n* element under `root`. */
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  document.documentElement.lang = current;
  if (document.body && document.body.dataset.titleKey) document.title = `${t(document.body.dataset.titleKey)} · landrelease`;
}

const listeners = [];
/** Call `fn` after every language switch (pages re-render what they built from data). */
export function onLanguageChange(fn) {
  listeners.push(fn);
}

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  strings = await load(lang);
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  apply();
  for (const fn of listeners) fn(lang);
}

export async function initI18n() {
  const lang = preferred();
  strings = await load(lang);
  current = lang;
  apply();
}

/** Numbers and areas in the interface language. */
export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return new Intl.NumberFormat(current === 'uk' ? 'uk-UA' : 'en-GB', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

export function hectares(m2) {
  return m2 === null || m2 === undefined ? '–' : formatNumber(m2 / 10000, 2);
}
