/**
 * Compressed request bodies (docs/sync-protocol.md, "Compression"): a JSON body of
 * `COMPRESS_ABOVE` bytes or more is sent gzip-compressed with `Content-Encoding: gzip`,
 * using the platform's `CompressionStream` (browsers, Node 18+). Where there is none
 * (React Native, old WebViews) the body goes as it is: every server accepts that.
 *
 * Answers need nothing here: `fetch` asks for compressed answers itself (`Accept-Encoding`
 * is the browser's to set) and hands the SDK the decoded text.
 * @module
 */

/**
 * Bodies smaller than this go as they are: a sign-in or a push of a few edits fits in one
 * packet either way, and a push of 100 mutations (about 30 KB) shrinks about 8×.
 */
export const COMPRESS_ABOVE = 1024

/** Whether this platform can gzip a body (`CompressionStream`). */
const canCompress = () => typeof globalThis.CompressionStream === 'function'

/**
 * The body to send for JSON `text`: gzip bytes, with `Content-Encoding: gzip` added to
 * `headers`, when it is at least `threshold` bytes long and the platform can; else the text.
 * @param {string} text
 * @param {Record<string, string>} headers  changed in place
 * @param {number | false} [threshold]  bytes; false: never compress
 * @returns {Promise<string | Uint8Array>}
 */
export async function encodeBody(text, headers, threshold = COMPRESS_ABOVE) {
  if (threshold === false || !canCompress()) return text
  const bytes = new TextEncoder().encode(text)
  if (bytes.length < threshold) return text
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'))
  const packed = new Uint8Array(await new Response(stream).arrayBuffer())
  headers['Content-Encoding'] = 'gzip'
  return packed
}
