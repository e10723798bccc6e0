/* JSON calls to the API with the session's bearer token: a 401 refreshes the token once and
 * retries; a failure becomes an ApiError, which errorText() words for people. */
import { i18n } from "./i18n.js";
import { auth } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_" + status;
    this.fields = error.fields || {};
  }
}

let signedOut = () => {};

/** What to do when the session is gone for good (common.js shows the sign-in form). */
export function onSignedOut(listener) {
  signedOut = listener;
}

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

export const api = {
  request,
  query,
  listAll,
  get: (path, params) => request(path + query(params)),
  post: (path, body) => request(path, { method: "POST", body }),
  patch: (path, body, headers) => request(path, { method: "PATCH", body, headers }),
  ApiError,
};

/** A human message for an API error, fields included. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return i18n.t("error.network");
  const fields = Object.entries(error.fields || {})
    .map(([name, messages]) => `${name}: ${[].concat(messages).flat().join(" ")}`)
    .join("; ");
  return fields ? `${error.message} (${fields})` : error.message;
}
