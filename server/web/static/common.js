/* fieldsync web pages: sign-in, API calls, translations. Plain browser JS, no build step.
 *
 * window.FS = { config, i18n, api, auth, fmt, start, toast, el }
 * Tokens live in sessionStorage (gone with the tab); the language in localStorage.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("fs-config").textContent);
  const STORAGE = { session: "fieldsync.session", lang: "fieldsync.lang", device: "fieldsync.device" };
  const RTL = ["ar", "fa"];
  const LANGUAGES = config.languages;

  /* ---------- small DOM helper ---------- */

  /** el("div", {class: "x", dataset: {id: 1}, text: "…"}, child, …) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* ---------- translations ---------- */

  const i18n = {
    lang: "en",
    strings: {},
    fallback: {},
    listeners: [],

    /** The stored choice, else the browser's first language we have, else English. */
    initial() {
      const stored = localStorage.getItem(STORAGE.lang);
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
      localStorage.setItem(STORAGE.lang, lang);
      const root = document.documentElement;
      root.lang = lang;
      root.dir = RTL.includes(lang) ? "rtl" : "ltr";
      const select = document.getElementById("fs-lang");
      if (select) select.value = lang;
      this.apply(document);
      for (const listener of this.listeners) listener(lang);
    },

    /** t("layers.title"), t("stats.selected", {count: 3}) */
    t(key, vars) {
      let text = this.strings[key] ?? this.fallback[key] ?? key;
      if (vars) {
        text = text.replace(/\{(\w+)\}/g, (match, name) => {
          if (!(name in vars)) return match;
          const value = vars[name];
          return typeof value === "number" ? fmt.number(value) : String(value);
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

  /* ---------- formatting in the chosen language ---------- */

  const fmt = {
    number(value, options) {
      if (value === null || value === undefined || value === "") return "—";
      return new Intl.NumberFormat(i18n.lang, options).format(Number(value));
    },
    integer(value) {
      return fmt.number(value, { maximumFractionDigits: 0 });
    },
    percent(value) {
      if (value === null || value === undefined) return "—";
      return fmt.number(value, { style: "percent", maximumFractionDigits: 1 });
    },
    money(value, currency) {
      if (value === null || value === undefined || value === "") return "—";
      try {
        return new Intl.NumberFormat(i18n.lang, {
          style: "currency",
          currency: currency || "VND",
          maximumFractionDigits: 0,
        }).format(Number(value));
      } catch (error) {
        return fmt.number(value);
      }
    },
    compact(value) {
      return fmt.number(value, { notation: "compact", maximumFractionDigits: 1 });
    },
    date(value) {
      if (!value) return "—";
      const moment = new Date(value);
      return new Intl.DateTimeFormat(i18n.lang, { dateStyle: "medium" }).format(moment);
    },
    dateTime(value) {
      if (!value) return "—";
      return new Intl.DateTimeFormat(i18n.lang, { dateStyle: "medium", timeStyle: "short" }).format(
        new Date(value)
      );
    },
    time(value) {
      if (!value) return "—";
      return new Intl.DateTimeFormat(i18n.lang, { timeStyle: "short" }).format(new Date(value));
    },
  };

  /* ---------- session and API ---------- */

  class ApiError extends Error {
    constructor(status, body) {
      const error = (body && body.error) || {};
      super(error.message || `HTTP ${status}`);
      this.status = status;
      this.code = error.code || "http_" + status;
      this.fields = error.fields || {};
    }
  }

  const auth = {
    get() {
      try {
        return JSON.parse(sessionStorage.getItem(STORAGE.session));
      } catch (error) {
        return null;
      }
    },
    set(session) {
      sessionStorage.setItem(STORAGE.session, JSON.stringify(session));
    },
    clear() {
      sessionStorage.removeItem(STORAGE.session);
    },
    deviceId() {
      let id = sessionStorage.getItem(STORAGE.device);
      if (!id) {
        const random = new Uint8Array(8);
        crypto.getRandomValues(random);
        id = "web-" + Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
        sessionStorage.setItem(STORAGE.device, id);
      }
      return id;
    },
    async login(email, password) {
      const body = await request("/api/v1/auth/login", {
        method: "POST",
        body: { email, password, device_id: auth.deviceId(), device_name: "web map" },
        anonymous: true,
      });
      auth.set({ access: body.access_token, refresh: body.refresh_token, user: body.user });
      return body.user;
    },
    refreshing: null,
    /** One refresh at a time: refresh tokens are single-use. */
    refresh() {
      if (!auth.refreshing) {
        const session = auth.get();
        auth.refreshing = (async () => {
          if (!session || !session.refresh) return false;
          const response = await fetch("/api/v1/auth/refresh", {
            method: "POST",
            headers: { "Content-Type": "application/json", Accept: "application/json" },
            body: JSON.stringify({ refresh_token: session.refresh }),
          });
          if (!response.ok) return false;
          const pair = await response.json();
          auth.set({ ...session, access: pair.access_token, refresh: pair.refresh_token });
          return true;
        })().finally(() => {
          auth.refreshing = null;
        });
      }
      return auth.refreshing;
    },
    async logout() {
      const session = auth.get();
      if (session && session.access) {
        try {
          await fetch("/api/v1/auth/logout", {
            method: "POST",
            headers: { Authorization: `Bearer ${session.access}` },
          });
        } catch (error) {
          /* offline: the token simply expires */
        }
      }
      auth.clear();
    },
  };

  /** JSON request to the API; a 401 refreshes the token once and retries. */
  async function request(path, options = {}, retried = false) {
    const headers = { Accept: "application/json", "Accept-Language": i18n.lang };
    const session = auth.get();
    if (!options.anonymous && session && session.access) {
      headers.Authorization = `Bearer ${session.access}`;
    }
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, options.headers || {});
    const response = await fetch(path, {
      method: options.method || "GET",
      headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    if (response.status === 401 && !options.anonymous && !retried) {
      if (await auth.refresh()) return request(path, options, true);
      auth.clear();
      signedOut();
    }
    const text = await response.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (error) {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") search.set(key, value);
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  /** Every item of a list resource, following cursors (bounded). */
  async function listAll(path, params, maxPages = 20) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page++) {
      const body = await request(path + query({ limit: 500, ...params, cursor }));
      items.push(...body.items);
      if (!body.has_more) break;
      cursor = body.next_cursor;
    }
    return items;
  }

  const api = {
    request,
    query,
    listAll,
    get: (path, params) => request(path + query(params)),
    post: (path, body) => request(path, { method: "POST", body }),
    patch: (path, body, headers) => request(path, { method: "PATCH", body, headers }),
    ApiError,
  };

  /* ---------- toast ---------- */

  let toastTimer = null;
  function toast(message, kind) {
    const node = document.getElementById("fs-toast");
    node.textContent = message;
    node.className = "fs-toast" + (kind ? ` fs-toast-${kind}` : "");
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      node.hidden = true;
    }, 5000);
  }

  /** A human message for an API error, fields included. */
  function errorText(error) {
    if (!(error instanceof ApiError)) return i18n.t("error.network");
    const fields = Object.entries(error.fields || {})
      .map(([name, messages]) => `${name}: ${[].concat(messages).flat().join(" ")}`)
      .join("; ");
    return fields ? `${error.message} (${fields})` : error.message;
  }

  /* ---------- page start: language, sign-in, role check ---------- */

  let page = null;

  function showLogin(message) {
    document.getElementById("fs-app").hidden = true;
    document.getElementById("fs-login").hidden = false;
    document.getElementById("fs-user").hidden = true;
    document.getElementById("fs-signout").hidden = true;
    const error = document.getElementById("fs-login-error");
    error.hidden = !message;
    error.textContent = message || "";
    document.getElementById("fs-email").focus();
  }

  function signedOut() {
    showLogin(i18n.t("login.expired"));
  }

  async function enter(user) {
    document.getElementById("fs-login").hidden = true;
    document.getElementById("fs-app").hidden = false;
    const name = document.getElementById("fs-user");
    name.textContent = `${user.name} · ${i18n.t("role." + user.role)}`;
    name.dataset.role = user.role;
    name.hidden = false;
    document.getElementById("fs-signout").hidden = false;
    await page.onReady(user);
  }

  /**
   * start({roles: ["manager", "admin"], onReady(user), onLanguage(lang)})
   */
  async function start(options) {
    page = options;
    await i18n.load(i18n.initial());
    if (options.onLanguage) i18n.onChange(options.onLanguage);
    i18n.onChange(() => {
      const session = auth.get();
      if (session && session.user) {
        document.getElementById("fs-user").textContent =
          `${session.user.name} · ${i18n.t("role." + session.user.role)}`;
      }
    });
    document.getElementById("fs-lang").addEventListener("change", (event) => {
      i18n.load(event.target.value);
    });
    document.getElementById("fs-signout").addEventListener("click", async () => {
      await auth.logout();
      window.location.reload();
    });
    document.getElementById("fs-login-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const user = await auth.login(form.email.value.trim(), form.password.value);
        if (!options.roles.includes(user.role)) {
          await auth.logout();
          showLogin(i18n.t("login.wrong_role"));
          return;
        }
        form.password.value = "";
        await enter(user);
      } catch (error) {
        showLogin(
          error instanceof ApiError && error.status === 401
            ? i18n.t("login.failed")
            : errorText(error)
        );
      } finally {
        button.disabled = false;
      }
    });
    const session = auth.get();
    if (session && session.user && options.roles.includes(session.user.role)) {
      await enter(session.user);
    } else {
      showLogin();
    }
  }

  window.FS = { config, i18n, t: (k, v) => i18n.t(k, v), api, auth, fmt, start, toast, el, errorText };
})();
