// What every page does with its two languages (the console, the staff and resident app, the public
// board): the reader's choice kept in this browser, else the browser's own language; and a label from
// the page's catalogue (its text.json, the same keys in each language) with {name} filled from params.
// Served beside each page's own files, so each imports it as "./languages.js".

export const LOCALES = ["zh-CN", "en"];

/** The page's language functions: its choice is kept under `key`; `missing` stands for a param not given. */
export function languages(key, catalogue, { missing = "—" } = {}) {
  function locale() {
    const chosen = localStorage.getItem(key);
    if (LOCALES.includes(chosen)) return chosen;
    return (navigator.language || "").toLowerCase().startsWith("en") ? "en" : "zh-CN";
  }

  function setLocale(value) {
    localStorage.setItem(key, value);
    document.documentElement.lang = value;
  }

  /** A label, with {name} filled from `params`. */
  function t(name, params = {}) {
    const text = catalogue[locale()][name] ?? catalogue.en[name] ?? name;
    return text.replace(/\{(\w+)\}/g, (_, param) => String(params[param] ?? missing));
  }

  /** Fill every [data-i18n] element under `root` with its label. */
  function translate(root = document) {
    for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  }

  return { locale, setLocale, t, translate };
}
