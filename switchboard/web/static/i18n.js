// Page text from the gettext catalogs (GET /api/v1/i18n/pages): the English text is the
// key; the document takes the language's direction (rtl for ar, he). Dates, numbers and
// durations are written with the browser's Intl in the viewer's locale (formatLocales):
// the catalog decides the words only.

let strings = {};
let locale = "en";  // the catalog's tag: language names, as the page's words
let formats = ["en"];  // the viewer's locales, best first: dates, times, numbers

// The language the page is asked for (?lang=) or the browser's first.
export function wantedLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  return asked || (navigator.languages && navigator.languages[0]) || navigator.language || "en";
}

// The page's text in `language`. `page` says which page asks: "chat", the customer's,
// has every catalog; "desk", the agent desktop, only the languages that translate all of
// it (a Korean agent's desk is English, not English with a few Korean words). False when
// the API refuses the tag (not one babel knows: `x-klingon`, `tlh`): the page then stays
// in English, and a caller with a better language to offer may ask again.
export async function loadText(language, page = "chat") {
  let known = true;
  try {
    const query = new URLSearchParams({ lang: language, page });
    const response = await fetch(`/api/v1/i18n/pages?${query}`);
    if (!response.ok) {
      known = response.status !== 400;
      throw new Error(`HTTP ${response.status}`);
    }
    const body = await response.json();
    strings = body.strings || {};
    locale = body.locale || "en";
    document.documentElement.lang = body.language;
    document.documentElement.dir = body.direction;
  } catch (_) {
    strings = {};  // the English text is in the page already
    locale = "en";
  }
  formats = formatLocales(known ? language : "", locale);
  translatePage(document);
  return known;
}

// The locales dates, times and numbers are written in for a page asked in `language`
// (?lang=, the chat's, the browser's first) whose words are the catalog's `catalog`:
// the browser's own tags of that language first (en-GB for an English page in a
// British browser, de-DE for a German customer whose page is in English for want of a
// German catalog), then the tag asked for, then the catalog's, then English. Intl
// takes the first of them it has; a tag it cannot parse is left out.
// A tag's language alone, lower case: `pt-BR` and `pt_br` are `pt` (the pages' one rule).
export const primary = (tag) => String(tag || "").toLowerCase().split(/[-_]/)[0];

export function formatLocales(language, catalog, browser = navigator.languages || [navigator.language]) {
  const wanted = primary(language) || primary(catalog);
  const own = browser.filter((tag) => primary(tag) === wanted);
  const found = [];
  for (const tag of [...own, language, catalog, "en"]) {
    try {
      const [canonical] = Intl.getCanonicalLocales(String(tag || "").replaceAll("_", "-"));
      if (canonical && !found.includes(canonical)) found.push(canonical);
    } catch (_) {
      // not a tag Intl takes (x-klingon)
    }
  }
  return found;
}

// t("You are number {position} in line.", { position: 3 })
export function t(message, values = {}) {
  const text = strings[message] || message;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

// Elements carry their English text in data-i18n (text), data-i18n-label (aria-label),
// data-i18n-placeholder and data-i18n-title.
const ATTRIBUTES = [
  ["i18n-label", "i18nLabel", "aria-label"],
  ["i18n-placeholder", "i18nPlaceholder", "placeholder"],
  ["i18n-title", "i18nTitle", "title"],
];

export function translatePage(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const [data, key, attribute] of ATTRIBUTES) {
    for (const node of root.querySelectorAll(`[data-${data}]`)) {
      node.setAttribute(attribute, t(node.dataset[key]));
    }
  }
}

// "es" -> "Spanish", "es-ES" -> "Spanish (Spain)", "zh-TW" -> "Chinese (Taiwan)", in the
// page's language: a language always by the same name, its region or script after it
// (never "European Spanish" beside the "Spanish" of another line).
export function languageName(code) {
  try {
    return new Intl.DisplayNames([locale], { type: "language", languageDisplay: "standard" }).of(code) || code;
  } catch (_) {
    return code;
  }
}

// Marks English text for the catalogs where it is translated later, with t(text).
export const N_ = (message) => message;

export function number(value, options = {}) {
  return new Intl.NumberFormat(formats, options).format(value);
}

export function shortDate(value) {
  return new Intl.DateTimeFormat(formats, { dateStyle: "short", timeStyle: "short" }).format(new Date(value));
}

export function time(value) {
  return new Intl.DateTimeFormat(formats, { timeStyle: "short" }).format(new Date(value));
}

// 75 -> "1:15" (minutes and seconds, digits of the locale).
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const two = (n) => number(n, { minimumIntegerDigits: 2 });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${number(h)}:${two(m)}:${two(s % 60)}` : `${number(m)}:${two(s % 60)}`;
}

// About how long, for estimated waits: "about 3 minutes" in the page's language.
export function roughly(seconds) {
  if (seconds < 60) return t("less than a minute");
  const minutes = Math.round(seconds / 60);
  return t("about {minutes} min", { minutes: number(minutes) });
}
