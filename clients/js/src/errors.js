/**
 * Errors the SDK throws. `code` is the server's error code (docs/sync-protocol.md,
 * "Errors") or one of the SDK's own: `update_required` (426), `network` (no answer after
 * the retries), `not_signed_in`, `not_found` (a local record that is not on the device).
 * @module
 */
export class FieldsyncError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{status?: number, body?: any, fields?: Record<string, string[]>, cause?: unknown}} [details]
   */
  constructor(code, message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'FieldsyncError'
    /** @type {string} */
    this.code = code
    /** @type {number | undefined} HTTP status, when the server answered */
    this.status = details.status
    /** @type {any} the server's JSON answer, when there was one */
    this.body = details.body
    /** @type {Record<string, string[]> | undefined} */
    this.fields = details.fields ?? details.body?.error?.fields
  }
}

/**
 * The FieldsyncError for a server's error answer.
 * @param {number} status
 * @param {any} body
 */
export function errorFromAnswer(status, body) {
  if (status === 426) {
    return new FieldsyncError('update_required',
      'This app speaks a sync protocol version the server no longer accepts: update the app.',
      { status, body })
  }
  const code = body?.error?.code || `http_${status}`
  const message = body?.error?.message || `The server answered ${status}.`
  return new FieldsyncError(code, message, { status, body })
}
