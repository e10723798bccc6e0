/* Translations: choose the language (stored in localStorage), load its strings from i18n/*.json,
 * translate the page's data-i18n nodes, set lang and dir (right-to-left for ar and fa). */
import { config } from "./config.js";

const STORAGE_KEY = "fieldsync.lang";
const RTL = ["ar", "fa"];
const LANGUAGES = config.languages;

export const i18n = {
  lang: "en",
  strings: {},
  fallback: {},
  listeners: [],

  /** The stored choice, else the browser's first language we have, else English. */
  initial() {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(stored)) return stored;
    for (const tag of navigator.languages || [navigator.language || "en"]) {
      const primary = String(tag).split("-")[0].toLowerCase();
      if (LANGUAGES.includes(primary)) return primary;
    }
    return "en";
  },

  async load(lang) {
    const fetchJson = async (code) => {
      const response = await fetch(`/static/app/i18n/${code}.json?v=${config.assetVersion}`);
      if (!response.ok) throw new Error(`i18n ${code}: ${response.status}`);
      return response.json();
    };
    if (!Object.keys(this.fallback).length) this.fallback = await fetchJson("en");
    this.strings = lang === "en" ? this.fallback : await fetchJson(lang);
    this.lang = lang;
    localStorage.setItem(STORAGE_KEY, lang);
    const root = document.documentElement;
    root.lang = lang;
    root.dir = RTL.includes(lang) ? "rtl" : "ltr";
    const select = document.getElementById("fs-lang");
    if (select) select.value = lang;
    this.apply(document);
    for (const listener of this.listeners) listener(lang);
  },

  /** t("layers.title"), t("stats.selected", {count: 3}); numbers in the language's digits. */
  t(key, vars) {
    let text = this.strings[key] ?? this.fallback[key] ?? key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (match, name) => {
        if (!(name in vars)) return match;
        const value = vars[name];
        return typeof value === "number" ? new Intl.NumberFormat(i18n.lang).format(value) : String(value);
      });
    }
    return text;
  },

  apply(root) {
    root.querySelectorAll("[data-i18n]").forEach((node) => {
      node.textContent = this.t(node.dataset.i18n);
    });
    for (const attr of ["placeholder", "title", "aria-label"]) {
      const data = "i18n" + attr.replace(/(^|-)(\w)/g, (m, dash, c) => c.toUpperCase());
      root.querySelectorAll(`[data-i18n-${attr}]`).forEach((node) => {
        node.setAttribute(attr, this.t(node.dataset[data]));
      });
    }
  },

  onChange(listener) {
    this.listeners.push(listener);
  },
};

/** i18n.t as a plain function, for the pages' modules. */
export const t = (key, vars) => i18n.t(key, vars);
