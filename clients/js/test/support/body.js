// What a request sent to the test servers carried: its JSON, decoded when the SDK gzipped
// it (`Content-Encoding: gzip`, src/compression.js), and that encoding.
import { gunzipSync } from 'node:zlib'

/** @param {RequestInit & {headers?: Record<string, string>}} init */
export function encodingOf(init) {
  return (init.headers || {})['Content-Encoding'] ?? null
}

/** @param {RequestInit & {headers?: Record<string, string>}} init */
export function bodyOf(init) {
  if (!init.body) return undefined
  const text = encodingOf(init) === 'gzip' ? gunzipSync(init.body).toString('utf8') : init.body
  return JSON.parse(/** @type {string} */ (text))
}
