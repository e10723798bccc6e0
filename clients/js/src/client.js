/**
 * SyncClient: one signed-in app install. It keeps a local copy of the user's scope in a
 * Storage (MemoryStorage, DexieStorage, or your own), an outbox of the edits made on the
 * device, and syncs both with a fieldsync server (docs/sync-protocol.md): push the outbox
 * in order (the last push also brings the first pull page), then pull until `has_more` is
 * false. Modelled on the reference Python client (clients/python/fieldsync_client/client.py).
 * @module
 */
import { COMPRESS_ABOVE, encodeBody } from './compression.js'
import { Emitter } from './emitter.js'
import { FieldsyncError, errorFromAnswer } from './errors.js'
import { fold } from './fold.js'

/** The protocol's most mutations per push (413 `too_many_mutations` above it). */
export const MAX_PUSH = 500
/** Refresh the access token when it has less than this left (ms). */
const REFRESH_MARGIN_MS = 60_000

/** @typedef {import('./storage/interface.js').Storage} Storage */
/** @typedef {import('./storage/interface.js').Mutation} Mutation */
/** @typedef {import('./storage/interface.js').SyncResult} SyncResult */

/**
 * @typedef {object} RetryOptions
 * @property {number} [baseMs]    first back-off (doubles per try, with jitter); 200
 * @property {number} [maxMs]     longest back-off; 30000
 * @property {number} [attempts]  tries per request in all (network errors, 5xx, 429); 6
 *
 * @typedef {object} SyncClientOptions
 * @property {string} baseUrl            e.g. "https://fieldsync.example.com" (no /api/v1)
 * @property {Storage} storage
 * @property {typeof globalThis.fetch} [fetch]
 * @property {string} [deviceName]       shown to managers in the device list
 * @property {number} [schemaVersion]    the protocol version spoken; 1
 * @property {number} [batchSize]        mutations per push (at most 500); 100
 * @property {number} [pullLimit]        pull `limit` (1–5000); 5000 (fewer round trips than the server's 500)
 * @property {number | false} [compressAbove]  gzip request bodies from this many bytes (false: never); 1024
 * @property {RetryOptions} [retry]
 * @property {() => Date} [now]          the device clock (tests)
 * @property {(ms: number) => Promise<void>} [sleep]  how to wait between retries (tests)
 *
 * @typedef {object} Session
 * @property {string} access_token
 * @property {string} refresh_token
 * @property {number} expires_at         ms since the epoch
 * @property {Record<string, any>} user
 *
 * @typedef {object} SyncStatus
 * @property {boolean} syncing
 * @property {number} outboxSize
 * @property {string | null} lastSyncedAt  ISO time of the last finished sync
 */

const iso = (/** @type {Date} */ d) => d.toISOString()

/** Seconds of a `Retry-After` header (this server sends whole seconds). @param {string | null} v */
function retryAfterMs(v) {
  const s = (v || '').trim()
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : 0
}

/** The server no longer takes the stored cursor (400 `invalid_cursor`; nothing applied). */
const refusedCursor = (/** @type {{status: number, body: any}} */ res) =>
  res.status === 400 && res.body?.error?.code === 'invalid_cursor'

export class SyncClient extends Emitter {
  /** @param {SyncClientOptions} options */
  constructor({
    baseUrl, storage, fetch = globalThis.fetch, deviceName, schemaVersion = 1,
    batchSize = 100, pullLimit = 5000, compressAbove = COMPRESS_ABOVE, retry = {}, now = () => new Date(),
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }) {
    super()
    if (!baseUrl) throw new TypeError('SyncClient needs a baseUrl')
    if (!storage) throw new TypeError('SyncClient needs a storage (MemoryStorage, DexieStorage, …)')
    if (typeof fetch !== 'function') throw new TypeError('SyncClient needs a fetch function')
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.storage = storage
    this._fetch = fetch
    this.deviceName = deviceName
    this.schemaVersion = schemaVersion
    this.batchSize = Math.max(1, Math.min(batchSize, MAX_PUSH))
    this.pullLimit = pullLimit
    this.compressAbove = compressAbove
    this.retryOptions = { baseMs: 200, maxMs: 30_000, attempts: 6, ...retry }
    this._now = now
    this._sleep = sleep
    /** @type {Session | null} */
    this._session = null
    /** @type {string | null} */
    this.deviceId = null
    this._status = { syncing: false, outboxSize: 0, lastSyncedAt: /** @type {string | null} */ (null) }
    /** @type {Promise<any> | null} */
    this._running = null
    /** @type {Promise<void> | null} */
    this._refreshing = null
    /** @type {Promise<void> | null} */
    this._init = null
  }

  // -- start-up, identity, status ---------------------------------------------------------

  /** Load the device id (made once, kept in meta), the session and the status from storage. */
  ready() {
    if (!this._init) {
      this._init = (async () => {
        let deviceId = await this.storage.getMeta('deviceId')
        if (!deviceId) {
          deviceId = crypto.randomUUID()
          await this.storage.setMeta('deviceId', deviceId)
        }
        this.deviceId = deviceId
        this._session = (await this.storage.getMeta('session')) || null
        this._status.lastSyncedAt = (await this.storage.getMeta('lastSyncedAt')) || null
        this._status.outboxSize = await this.storage.outboxSize()
      })()
      this._init.catch(() => { this._init = null })
    }
    return this._init
  }

  /** The signed-in user (as the server gave it at sign-in), or null. */
  get user() {
    return this._session?.user ?? null
  }

  /** @returns {SyncStatus} */
  get status() {
    return { ...this._status }
  }

  // -- sign-in -----------------------------------------------------------------------------

  /**
   * Sign in; keeps the tokens in storage meta (`session`). Signing in as another user than
   * the one whose data the device holds erases that data first (records, outbox, results).
   * @param {string} email
   * @param {string} password
   * @returns {Promise<Record<string, any>>} the user
   */
  async signIn(email, password) {
    await this.ready()
    /** @type {Record<string, any>} */
    const body = { email, password, device_id: this.deviceId }
    if (this.deviceName) body.device_name = this.deviceName
    const res = await this._send('POST', '/api/v1/auth/login', { body })
    if (res.status !== 200) throw errorFromAnswer(res.status, res.body)
    const user = res.body.user
    const previous = await this.storage.getMeta('userId')
    if (previous && previous !== user.id) {
      await this.storage.clear()
      this._status.lastSyncedAt = null
      await this._outboxChanged()
    }
    await this.storage.setMeta('userId', user.id)
    await this._saveSession({ ...this._tokens(res.body), user })
    return user
  }

  /** End the session on the server (best effort) and forget the tokens; local data stays. */
  async signOut() {
    await this.ready()
    const token = this._session?.access_token
    if (token) {
      try {
        await this._send('POST', '/api/v1/auth/logout', { token, attempts: 1 })
      } catch {
        // offline: the session ends on the server when its tokens expire
      }
    }
    await this._saveSession(null)
  }

  // -- local data --------------------------------------------------------------------------

  /** @param {string} table @param {string} id */
  async get(table, id) {
    await this.ready()
    return this.storage.get(table, id)
  }

  /** @param {string} table */
  async all(table) {
    await this.ready()
    return this.storage.all(table)
  }

  /**
   * Records by an index: `customer_id`, `status`, `planned_at`, `due_at`, `updated_at`.
   * @param {string} table
   * @param {{index: string, equals?: any, between?: [any, any]}} q
   */
  async query(table, { index, equals, between }) {
    await this.ready()
    return this.storage.query(table, index, between ? { between } : equals)
  }

  /**
   * Local search, accent- and case-insensitive in any script: records whose searchable
   * fields (as on the server) contain `text`, folded.
   * @param {string} table
   * @param {string} text
   * @param {{limit?: number}} [options]
   */
  async search(table, text, { limit = 50 } = {}) {
    await this.ready()
    return this.storage.search(table, fold(text), limit)
  }

  // -- local writes ------------------------------------------------------------------------

  /**
   * Create a record on the device and queue its `create`. The id is a new UUID unless
   * `fields.id` gives one.
   * @param {string} table
   * @param {Record<string, any>} fields
   * @returns {Promise<Record<string, any>>} the local record
   */
  async create(table, fields) {
    await this.ready()
    const { id = crypto.randomUUID(), ...rest } = fields
    const record = { id, ...rest }
    const mutation = this._mutation(table, 'create', id, { fields: rest })
    await this.storage.transaction(async () => {
      await this.storage.put(table, [record])
      await this.storage.enqueue([mutation])
    })
    await this._outboxChanged()
    return record
  }

  /**
   * Change fields of a local record and queue an `update` with `base_version` = the local
   * copy's version.
   * @param {string} table
   * @param {string} id
   * @param {Record<string, any>} fields  only the changed fields
   * @returns {Promise<Record<string, any>>} the local record after the change
   */
  async update(table, id, fields) {
    await this.ready()
    const { id: _ignored, ...changed } = fields
    /** @type {Record<string, any>} */
    let record = {}
    await this.storage.transaction(async () => {
      const current = await this.storage.get(table, id)
      if (!current) throw new FieldsyncError('not_found', `${table}/${id} is not on this device`)
      record = { ...current, ...changed }
      await this.storage.put(table, [record])
      await this.storage.enqueue([this._mutation(table, 'update', id,
        { base_version: current.version ?? 0, fields: changed })])
    })
    await this._outboxChanged()
    return record
  }

  /**
   * Delete a local record and queue its `delete`.
   * @param {string} table
   * @param {string} id
   */
  async remove(table, id) {
    await this.ready()
    await this.storage.transaction(async () => {
      if (!(await this.storage.get(table, id))) {
        throw new FieldsyncError('not_found', `${table}/${id} is not on this device`)
      }
      await this.storage.delete(table, [id])
      await this.storage.enqueue([this._mutation(table, 'delete', id, {})])
    })
    await this._outboxChanged()
  }

  /** The queued mutations, oldest first. */
  async outbox() {
    await this.ready()
    return this.storage.peek()
  }

  // -- results: conflicts and rejections -----------------------------------------------------

  /** Stored merge conflicts and rejections, to show the user. @returns {Promise<SyncResult[]>} */
  async conflicts() {
    await this.ready()
    return this.storage.listResults()
  }

  /**
   * Queue a rejected mutation again, as a new mutation (a new id; an update gets the local
   * copy's version as `base_version`), applied locally too; the rejection is removed.
   * @param {string} mutationId
   * @returns {Promise<Mutation>} the new mutation
   */
  async retry(mutationId) {
    await this.ready()
    /** @type {Mutation | null} */
    let queued = null
    await this.storage.transaction(async () => {
      const found = (await this.storage.listResults())
        .find((r) => r.kind === 'rejection' && r.mutation.id === mutationId)
      if (!found || found.kind !== 'rejection') {
        throw new FieldsyncError('not_found', `No rejected mutation ${mutationId}`)
      }
      const old = found.mutation
      const local = await this.storage.get(old.table, old.record_id)
      const extra = old.op === 'update' ? { base_version: local?.version ?? old.base_version ?? 0 } : {}
      queued = this._mutation(old.table, old.op, old.record_id,
        { ...extra, ...(old.op === 'delete' ? {} : { fields: old.fields || {} }) })
      if (old.op === 'delete') await this.storage.delete(old.table, [old.record_id])
      else await this.storage.put(old.table, [{ ...(local || {}), id: old.record_id, ...(old.fields || {}) }])
      await this.storage.enqueue([queued])
      await this.storage.removeResult(found.id)
    })
    await this._outboxChanged()
    return /** @type {Mutation} */ (/** @type {unknown} */ (queued))
  }

  /** Forget a stored conflict or rejection (its `id`). @param {string} id */
  async discard(id) {
    await this.ready()
    await this.storage.removeResult(id)
  }

  /**
   * A signed-in call to the REST API (e.g. `POST /api/v1/route-plans/{id}/reoptimize`), with
   * the same token refresh, retries and session-end handling as sync. Answers of any status
   * are returned, not thrown: `{status, body}`.
   * @param {string} method
   * @param {string} path   from the server root, e.g. "/api/v1/route-plans"
   * @param {{body?: any, params?: Record<string, any>}} [options]
   * @returns {Promise<{status: number, body: any}>}
   */
  async request(method, path, { body, params } = {}) {
    await this.ready()
    return this._authed(method, path, { body, params })
  }

  // -- sync ----------------------------------------------------------------------------------

  /**
   * Push the outbox, then pull until up to date. Calls made while a sync runs share it.
   * @returns {Promise<{pushed: number, pulled: number}>}
   */
  sync() {
    if (!this._running) {
      this._running = this._sync().finally(() => { this._running = null })
    }
    return this._running
  }

  async _sync() {
    await this.ready()
    this._status.syncing = true
    this.emit('sync:start')
    try {
      const { pushed, page, pulled: first } = await this._push()
      // The last push brought the first page (ADR 0028): pull on only while there is more.
      const pulled = first + (!page || page.has_more ? await this._pull() : 0)
      const at = iso(this._now())
      await this.storage.setMeta('lastSyncedAt', at)
      this._status.lastSyncedAt = at
      this._status.syncing = false
      this.emit('sync:done', { pushed, pulled })
      return { pushed, pulled }
    } catch (error) {
      this._status.syncing = false
      this.emit('sync:error', error)
      throw error
    }
  }

  /**
   * Push the outbox in order, in batches. The last batch carries the first pull page's
   * request (`pull`, ADR 0028), so a sync after a dead zone is one round trip; its answer
   * and that page are stored in one transaction.
   * @returns {Promise<{pushed: number, pulled: number, page: any}>} mutations settled,
   *   changes pulled with them, and the last page pulled (null: none)
   */
  async _push() {
    let pushed = 0
    let pulled = 0
    let page = null
    let size = this.batchSize
    let restart = false
    for (;;) {
      const queued = await this.storage.peek(size + 1)
      const batch = queued.slice(0, size)
      if (!batch.length) return { pushed, pulled, page }
      const last = queued.length <= size
      /** @type {Record<string, any>} */
      const body = {
        schema_version: this.schemaVersion,
        device_time: iso(this._now()),
        mutations: batch,
      }
      if (last) {
        const cursor = restart ? undefined : await this.storage.getMeta('cursor')
        body.pull = { limit: this.pullLimit, ...(cursor ? { cursor } : {}) }
      }
      const res = await this._authed('POST', '/api/v1/sync/push', { body })
      if (res.status === 413 && size > 1) {
        size = Math.ceil(size / 2) // too many bytes: smaller batches, same order
        continue
      }
      if (refusedCursor(res) && last && !restart) {
        restart = true // refused before anything was applied: again, with a full sync
        continue
      }
      if (res.status !== 200) throw errorFromAnswer(res.status, res.body)
      const results = res.body?.results
      if (!Array.isArray(results) || results.length !== batch.length) {
        throw new FieldsyncError('bad_answer', `A push of ${batch.length} mutations got ${results?.length} results`,
          { status: res.status, body: res.body })
      }
      const pull = last ? res.body.pull : null
      if (last && (!pull || !Array.isArray(pull.changes))) {
        throw new FieldsyncError('bad_answer', 'A push with a pull got no page', { status: res.status, body: res.body })
      }
      await this.storage.transaction(async () => {
        const later = await this._settle(batch, results)
        if (pull) await this._applyPage(pull.changes, pull.cursor, pull.reset || restart, later)
      })
      pushed += batch.length
      if (pull) {
        page = pull
        pulled += pull.changes.length
        restart = false
      }
      await this._outboxChanged()
      // Edits made meanwhile go too (their batch brings a page again), as before pulls.
    }
  }

  /**
   * Store the server's answers to `batch` and take it out of the outbox, in the caller's
   * transaction: nothing leaves the outbox without its answer stored.
   * @param {Mutation[]} batch
   * @param {any[]} results
   * @returns {Promise<Map<string, Mutation[]>>} what is left in the outbox, per record
   */
  async _settle(batch, results) {
    const later = pendingByRecord((await this.storage.peek()).slice(batch.length))
    /** @type {SyncResult[]} */
    const stored = []
    for (let i = 0; i < batch.length; i++) {
      const mutation = batch[i]
      const result = results[i]
      if (result.record) {
        const local = overlay(result.record, later.get(key(mutation.table, result.record.id)))
        if (local) await this.storage.put(mutation.table, [local])
      } else if (result.status === 'rejected' && mutation.op === 'create') {
        await this.storage.delete(mutation.table, [mutation.record_id])
      }
      if (result.status === 'merged') {
        for (const c of result.conflicts || []) {
          stored.push({
            id: `${mutation.id}:${c.field}`, kind: 'conflict', table: mutation.table,
            record_id: mutation.record_id, field: c.field, yours: c.yours, server: c.server,
            kept: c.kept, reason: c.reason, mutation_id: mutation.id,
          })
        }
      } else if (result.status === 'rejected') {
        stored.push({
          id: mutation.id, kind: 'rejection', mutation, code: result.error?.code,
          message: result.error?.message, fields: result.error?.fields, logged: result.logged !== false,
        })
      }
    }
    if (stored.length) await this.storage.addResults(stored)
    await this.storage.ack(batch.map((m) => m.id))
    return later
  }

  /**
   * Pull pages until `has_more` is false; each page and its cursor in one transaction.
   * The next page is asked for as soon as a page arrives (its cursor is in the answer),
   * so the network and the server work while the device stores the page before.
   */
  async _pull() {
    let pulled = 0
    let restart = false
    let cursor = await this.storage.getMeta('cursor')
    /** @type {Promise<{status: number, body: any}> | null} */
    let next = this._pullPage(cursor)
    for (;;) {
      const res = await /** @type {Promise<{status: number, body: any}>} */ (next) // null ends the loop below
      if (refusedCursor(res) && !restart) {
        restart = true // a full sync from nothing, applied as a reset
        next = this._pullPage(undefined)
        continue
      }
      if (res.status !== 200) throw errorFromAnswer(res.status, res.body)
      const page = res.body
      const reset = page.reset || restart
      restart = false
      cursor = page.cursor
      next = page.has_more ? this._pullPage(cursor) : null
      // An unread next answer must not become an unhandled rejection if this apply fails.
      next?.catch(() => {})
      await this.storage.transaction(() => this._applyPage(page.changes, page.cursor, reset))
      pulled += page.changes.length
      if (!next) return pulled
    }
  }

  /** @param {string | undefined} cursor */
  _pullPage(cursor) {
    const params = { cursor, limit: this.pullLimit, schema_version: this.schemaVersion }
    return this._authed('GET', '/api/v1/sync/pull', { params })
  }

  /**
   * @param {any[]} changes
   * @param {string} cursor
   * @param {boolean} reset
   * @param {Map<string, Mutation[]>} [pending]  the outbox per record, when the caller has it
   */
  async _applyPage(changes, cursor, reset, pending) {
    if (reset) await this.storage.clear({ keepOutbox: true })
    pending ??= pendingByRecord(await this.storage.peek())
    // Consecutive changes of one table and kind go in one call; the order is kept.
    /** @type {{table: string, put: boolean, items: any[]} | null} */
    let run = null
    const flush = async () => {
      if (!run) return
      if (run.put) await this.storage.put(run.table, run.items)
      else await this.storage.delete(run.table, run.items)
      run = null
    }
    for (const change of changes) {
      const put = change.op === 'put'
      let item
      if (put) {
        item = overlay(change.record, pending.get(key(change.table, change.record.id)))
        if (!item) continue // deleted on the device, not yet pushed
      } else {
        item = change.id
      }
      if (!run || run.table !== change.table || run.put !== put) {
        await flush()
        run = { table: change.table, put, items: [] }
      }
      run.items.push(item)
    }
    await flush()
    await this.storage.setMeta('cursor', cursor)
  }

  // -- HTTP ----------------------------------------------------------------------------------

  /**
   * A request with the access token: refreshed before it expires and on 401
   * `token_expired`; an ended session throws (a revoked device with `wipe` is erased).
   * @param {string} method
   * @param {string} path
   * @param {{body?: any, params?: Record<string, any>}} [options]
   */
  async _authed(method, path, options = {}) {
    if (!this._session) throw new FieldsyncError('not_signed_in', 'Sign in first.')
    if (this._session.expires_at - REFRESH_MARGIN_MS < this._now().getTime()) await this._refresh()
    let res = await this._send(method, path, { ...options, token: this._session.access_token })
    if (res.status === 401 && res.body?.error?.code === 'token_expired') {
      await this._refresh()
      res = await this._send(method, path, { ...options, token: this._session.access_token })
    }
    if (res.status === 401) await this._sessionEnded(res)
    if (res.status === 426) throw errorFromAnswer(res.status, res.body)
    return res
  }

  /**
   * Spend the refresh token for a new pair, one refresh at a time. When the answer is lost,
   * the same refresh token is sent again (the server gives the same successor within 60 s).
   */
  _refresh() {
    if (!this._refreshing) {
      this._refreshing = (async () => {
        const session = this._session
        if (!session) throw new FieldsyncError('not_signed_in', 'Sign in first.')
        const res = await this._send('POST', '/api/v1/auth/refresh',
          { body: { refresh_token: session.refresh_token } })
        if (res.status === 200) {
          await this._saveSession({ ...session, ...this._tokens(res.body) })
          return
        }
        await this._sessionEnded(res)
        throw errorFromAnswer(res.status, res.body)
      })().finally(() => { this._refreshing = null })
    }
    return this._refreshing
  }

  /**
   * A 401 that ends the session: forget the tokens (the outbox stays), erase everything on
   * `device_revoked` with `wipe: true`, and throw.
   * @param {{status: number, body: any}} res
   */
  async _sessionEnded(res) {
    if (res.status !== 401) return
    const error = errorFromAnswer(res.status, res.body)
    await this._saveSession(null)
    if (error.code === 'device_revoked' && res.body?.wipe) {
      await this.storage.clear()
      this._status.lastSyncedAt = null
      await this._outboxChanged()
      this.emit('wiped', { reason: res.body?.reason ?? 'revoked' })
    }
    throw error
  }

  /**
   * One request, retried on no answer, 5xx and 429 with the same body: back-off doubling
   * with jitter, never sooner than `Retry-After`.
   * @param {string} method
   * @param {string} path
   * @param {{body?: any, params?: Record<string, any>, token?: string, attempts?: number}} [options]
   * @returns {Promise<{status: number, body: any}>}
   */
  async _send(method, path, { body, params, token, attempts = this.retryOptions.attempts } = {}) {
    let url = this.baseUrl + path
    if (params) {
      const query = new URLSearchParams()
      for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) query.set(k, String(v))
      const qs = query.toString()
      if (qs) url += `?${qs}`
    }
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (token) headers.Authorization = `Bearer ${token}`
    const init = {
      method, headers,
      body: body === undefined ? undefined : await encodeBody(JSON.stringify(body), headers, this.compressAbove),
    }
    for (let attempt = 1; ; attempt++) {
      let waitAtLeast = 0
      try {
        // Called unbound: a browser's fetch throws "Illegal invocation" when its `this`
        // is not the window (as `this._fetch(…)` would make it).
        const send = this._fetch
        const res = await send(url, init)
        const text = await res.text()
        let json = null
        try {
          json = text ? JSON.parse(text) : null
        } catch {
          json = { raw: text }
        }
        if ((res.status < 500 && res.status !== 429) || attempt >= attempts) {
          return { status: res.status, body: json }
        }
        waitAtLeast = retryAfterMs(res.headers?.get?.('Retry-After') ?? null)
      } catch (cause) {
        if (attempt >= attempts) {
          throw new FieldsyncError('network', `No answer to ${method} ${path} after ${attempts} tries`, { cause })
        }
      }
      const { baseMs, maxMs } = this.retryOptions
      const backoff = Math.min(baseMs * 2 ** (attempt - 1), maxMs)
      await this._sleep(Math.max(backoff * (0.5 + Math.random() / 2), waitAtLeast))
    }
  }

  // -- internals -------------------------------------------------------------------------------

  /** @param {any} body */
  _tokens(body) {
    return {
      access_token: body.access_token,
      refresh_token: body.refresh_token,
      expires_at: this._now().getTime() + (body.expires_in ?? 900) * 1000,
    }
  }

  /** @param {Session | null} session */
  async _saveSession(session) {
    this._session = session
    await this.storage.setMeta('session', session ?? undefined)
  }

  async _outboxChanged() {
    this._status.outboxSize = await this.storage.outboxSize()
    this.emit('outbox', this._status.outboxSize)
  }

  /**
   * @param {string} table
   * @param {'create'|'update'|'delete'} op
   * @param {string} recordId
   * @param {{base_version?: number, fields?: Record<string, any>}} extra
   * @returns {Mutation}
   */
  _mutation(table, op, recordId, extra) {
    return {
      id: crypto.randomUUID(), table, op, record_id: recordId,
      changed_at: iso(this._now()), ...extra,
    }
  }
}

/** @param {string} table @param {string} id */
const key = (table, id) => `${table}\u0000${id}`

/**
 * Queued mutations per record, oldest first.
 * @param {Mutation[]} mutations
 */
function pendingByRecord(mutations) {
  /** @type {Map<string, Mutation[]>} */
  const map = new Map()
  for (const m of mutations) {
    const k = key(m.table, m.record_id)
    const list = map.get(k)
    if (list) list.push(m)
    else map.set(k, [m])
  }
  return map
}

/**
 * The server's record with the fields of the device's still-queued edits laid over it
 * (protocol, "Writing a client" 7); null when a queued delete removes it.
 * @param {Record<string, any>} record
 * @param {Mutation[] | undefined} pending
 */
function overlay(record, pending) {
  if (!pending) return record
  let local = record
  for (const m of pending) {
    if (m.op === 'delete') return null
    local = { ...local, ...(m.fields || {}) }
  }
  return local
}
