// What the scenarios (scenarios.js) share: a real WatermelonDB 0.28 device (LokiJS adapter,
// in memory) that syncs with a live fieldsync through `synchronize()`, a REST client to check
// the server's side, and failures that name what differs.
//
// No Babel and no decorators: every table gets a plain Model subclass, fields are written
// with `_setRaw` and read from `_raw`. The only thing a decorated model would add that sync
// depends on is the `createdAt` / `updatedAt` pair: WatermelonDB stamps `created_at` /
// `updated_at` on local writes only when the model has those properties (`'updatedAt' in
// record`), and the server takes `updated_at` as the device's edit time when it merges
// concurrent edits (docs/watermelondb.md). So the base model declares them as getters.
import { randomUUID } from 'node:crypto'
import { Database, Model, Q } from '@nozbe/watermelondb'
import LokiPkg from '@nozbe/watermelondb/adapters/lokijs/index.js'
import SyncPkg from '@nozbe/watermelondb/sync/index.js'
import RandomIdPkg from '@nozbe/watermelondb/utils/common/randomId/index.js'
import LoggerPkg from '@nozbe/watermelondb/utils/common/logger/index.js'
import { schema as currentSchema } from './schema.js'
import { migrations as currentMigrations } from './migrations.js'
// The JS SDK's gzip body (a dependency-free module), not a second copy of it.
import { encodeBody } from '../js/src/compression.js'

const LokiJSAdapter = LokiPkg.default || LokiPkg
const { synchronize, hasUnsyncedChanges } = SyncPkg
const logger = LoggerPkg.default || LoggerPkg

const BASE = (process.env.FIELDSYNC_URL || 'http://127.0.0.1:8000').replace(/\/$/, '')
const DOMAIN = process.env.FIELDSYNC_DOMAIN || 'demo.fieldsync.dev'
const PASSWORD = process.env.FIELDSYNC_PASSWORD || 'demo-pass-2026'
const VERBOSE = Boolean(process.env.FIELDSYNC_VERBOSE)
export { Q }

// Our ids are UUIDs: records created on the device must get valid ones.
RandomIdPkg.setGenerator(() => randomUUID())
// WatermelonDB logs every database set-up and skipped collection; keep the output to ours.
if (!VERBOSE) logger.silence()

/** The REST path of a synced table. */
const RESOURCE = { route_plans: 'route-plans' }
const resourceOf = (table) => RESOURCE[table] || table

// -- failures -------------------------------------------------------------------------------

/** A mismatch between the device, the server and what the scenario expects. */
export class Failure extends Error {}

export function fail(message) {
  throw new Failure(message)
}

export function check(condition, message) {
  if (!condition) fail(typeof message === 'function' ? message() : message)
}

export function checkEqual(actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`)
}

export const short = (value, limit = 600) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.length > limit ? `${text.slice(0, limit)}…` : text
}


// -- the server, over REST ------------------------------------------------------------------

export class Session {
  constructor(who, body, deviceId) {
    this.who = who
    this.token = body.access_token
    this.user = body.user
    this.deviceId = deviceId
  }

  /** Sign in `who` ("rep1", "manager1", or a full e-mail) as a new device. */
  static async login(who, deviceId = `wm-${who}-${randomUUID()}`) {
    const email = who.includes('@') ? who : `${who}@${DOMAIN}`
    const res = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD, device_id: deviceId }),
    })
    const text = await res.text()
    if (!res.ok) fail(`login of ${email}: ${res.status} ${short(text)}`)
    return new Session(who, JSON.parse(text), deviceId)
  }

  get id() {
    return this.user.id
  }

  /**
   * `{status, body}` of any request, whatever the status. `gzip`: send the body compressed
   * (`Content-Encoding: gzip`), as docs/watermelondb.md shows for `pushChanges`.
   */
  async request(method, path, body, { gzip = false } = {}) {
    const headers = { Authorization: `Bearer ${this.token}` }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let data = body === undefined ? undefined : JSON.stringify(body)
    if (gzip && data !== undefined) data = await encodeBody(data, headers, 0)
    const res = await fetch(`${BASE}${path}`, { method, headers, body: data })
    const text = await res.text()
    let parsed = text
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      // not JSON: keep the text for the message
    }
    return { status: res.status, body: parsed }
  }

  /** The body of a request that must succeed (2xx), else a failure naming it. */
  async ok(method, path, body) {
    const res = await this.request(method, path, body)
    if (res.status < 200 || res.status >= 300) {
      fail(`${this.who}: ${method} ${path} ${body ? short(body, 300) : ''}` +
        ` answered ${res.status} ${short(res.body)}`)
    }
    return res.body
  }

  get(path) {
    return this.ok('GET', path)
  }

  /** Every record of `table` this user can list (all pages). */
  async list(table, query = {}) {
    const items = []
    let cursor = null
    for (;;) {
      const params = new URLSearchParams({ ...query, limit: '500' })
      if (cursor) params.set('cursor', cursor)
      const page = await this.get(`/api/v1/${resourceOf(table)}?${params}`)
      items.push(...page.items)
      if (!page.has_more) return items
      cursor = page.next_cursor
    }
  }

  /** One record, or null when the server answers 404. */
  async find(table, id) {
    const res = await this.request('GET', `/api/v1/${resourceOf(table)}/${id}`)
    if (res.status === 404) return null
    if (res.status !== 200) fail(`${this.who}: GET ${table}/${id} answered ${res.status}`)
    return res.body
  }

  /** Conflict-log entries of one record. */
  async conflicts(table, recordId) {
    const params = new URLSearchParams({ table, record_id: recordId, limit: '500' })
    return (await this.get(`/api/v1/conflicts?${params}`)).items
  }
}

// -- the device -----------------------------------------------------------------------------

class SyncedModel extends Model {
  // What `@readonly @date('created_at') createdAt` would give: WatermelonDB then stamps
  // the columns itself on create and update (see the top of this file).
  get createdAt() {
    return this._getRaw('created_at')
  }

  get updatedAt() {
    return this._getRaw('updated_at')
  }
}

function modelClassesFor(schema, stamps = true) {
  return Object.keys(schema.tables).map((table) => {
    const cls = stamps ? class extends SyncedModel {} : class extends Model {}
    cls.table = table
    return cls
  })
}

/** A thrown push, to simulate a network failure around `pushChanges`. */
export class PushFault extends Error {}

let deviceCount = 0

export class Device {
  /**
   * A phone: a WatermelonDB database (LokiJS, in memory) signed in as `session`.
   *
   * `useIncrementalIndexedDB: true` as WatermelonDB 0.28 recommends (false is deprecated):
   * under Node there is no IndexedDB, and the adapter then falls back to LokiJS's memory
   * adapter by itself (adapters/lokijs/worker/lokiExtensions.js), which is what we want.
   * `autosave: false`: there is nothing to save to; `upgrade()` saves explicitly.
   * `stamps: false`: models without `createdAt`/`updatedAt`, as some apps have (WatermelonDB
   * then stamps no edit time).
   */
  constructor(session, { schema = currentSchema, migrations = currentMigrations, name,
    serverSchemaVersion, adapter, stamps = true } = {}) {
    deviceCount += 1
    this.session = session
    this.name = name || `${session.who}#${deviceCount}`
    this.schema = schema
    this.migrations = migrations
    // The schema version sent to the server; by default the local one (see migration).
    this.serverSchemaVersion = serverSchemaVersion
    this.adapter = adapter || new LokiJSAdapter({
      schema,
      migrations,
      dbName: `fieldsync-${deviceCount}-${randomUUID()}`,
      useWebWorker: false,
      useIncrementalIndexedDB: true,
      extraLokiOptions: { autosave: false },
      onSetUpError: (error) => { this.setUpError = error },
    })
    this.database = new Database({
      adapter: this.adapter, modelClasses: modelClassesFor(schema, stamps),
    })
    /** Every sync: {query, pull, push: {changes, lastPulledAt, response} | null, log}. */
    this.syncs = []
  }

  static async signIn(who, options = {}) {
    return new Device(await Session.login(who), options)
  }

  /**
   * One `synchronize()`. `pushFault`: 'before' throws in pushChanges before sending,
   * 'after' throws once the server has answered (it committed; the app never knows).
   * `resend`: send the same push body twice (an HTTP retry after a lost response).
   * `beforePush`: run between the pull and the push (a change that lands in between).
   */
  async sync({ pushFault = null, resend = false, beforePush = null } = {}) {
    const entry = { query: null, pull: null, push: null, log: {} }
    this.syncs.push(entry)
    const session = this.session
    await synchronize({
      database: this.database,
      log: entry.log,
      migrationsEnabledAtVersion: 1,
      pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
        entry.query = { lastPulledAt, schemaVersion, migration }
        const params = new URLSearchParams({
          last_pulled_at: String(lastPulledAt ?? 'null'),
          schema_version: String(this.serverSchemaVersion ?? schemaVersion),
          migration: JSON.stringify(migration ?? null),
        })
        const res = await session.request('GET', `/api/v1/sync/watermelon?${params}`)
        if (res.status !== 200) fail(`${this.name}: pull answered ${res.status} ${short(res.body)}`)
        entry.pull = res.body
        return res.body
      },
      pushChanges: async ({ changes, lastPulledAt }) => {
        if (pushFault === 'before') throw new PushFault('push failed before sending')
        if (beforePush) await beforePush()
        const payload = { changes, lastPulledAt, device_time: Date.now() }
        const send = async () => {
          // Compressed, as an app on a slow link should (and the resent copy alike).
          const res = await session.request('POST', '/api/v1/sync/watermelon', payload, { gzip: true })
          if (res.status !== 200) {
            fail(`${this.name}: push answered ${res.status} ${short(res.body)}`)
          }
          return res.body
        }
        let response = await send()
        const responses = [response]
        if (resend) {
          response = await send()
          responses.push(response)
        }
        entry.push = { changes, lastPulledAt, response, responses }
        if (pushFault === 'after') throw new PushFault('push failed after the server answered')
        return { experimentalRejectedIds: response.experimentalRejectedIds }
      },
    })
    if (this.setUpError) fail(`${this.name}: database set-up failed: ${this.setUpError}`)
    return entry
  }

  /** A sync whose push must be accepted whole (nothing rejected, nothing lost). */
  async syncClean(what = 'sync', options = {}) {
    const entry = await this.sync(options)
    const response = entry.push?.response
    if (response) {
      check(Object.keys(response.experimentalRejectedIds).length === 0 &&
        response.rejected.length === 0,
      `${this.name}: ${what}: the push was refused in part: ${short(response)}`)
    }
    return entry
  }

  collection(table) {
    return this.database.get(table)
  }

  async count(table) {
    return this.collection(table).query().fetchCount()
  }

  async all(table, ...conditions) {
    return this.collection(table).query(...conditions).fetch()
  }

  async ids(table) {
    return new Set((await this.all(table)).map((r) => r.id))
  }

  /** The local record, or null. */
  async find(table, id) {
    try {
      return await this.collection(table).find(id)
    } catch {
      return null
    }
  }

  async create(table, fields) {
    let record
    await this.database.write(async () => {
      record = await this.collection(table).create((r) => setFields(r, fields))
    })
    return record
  }

  async update(record, fields) {
    await this.database.write(async () => {
      await record.update((r) => setFields(r, fields))
    })
    return record
  }

  /** A syncable delete (pushed as `deleted`). */
  async remove(record) {
    await this.database.write(async () => {
      await record.markAsDeleted()
    })
  }

  async unsynced() {
    return hasUnsyncedChanges({ database: this.database })
  }

  /**
   * The app updated to `schema` with `migrations`: the same LokiJS data, opened by a new
   * adapter that migrates it (what a restart after an app update does).
   */
  async upgrade(schema, migrations, options = {}) {
    const loki = this.adapter._driver.loki
    await new Promise((resolve, reject) => {
      loki.saveDatabase((error) => (error ? reject(error) : resolve()))
    })
    const adapter = await this.adapter.testClone({ schema, migrations })
    const device = new Device(this.session, {
      schema, migrations, adapter, name: `${this.name}(v${schema.version})`, ...options,
    })
    device.syncs = this.syncs
    return device
  }
}

function setFields(record, fields) {
  for (const [key, value] of Object.entries(fields)) record._setRaw(key, value)
}

// -- comparisons ----------------------------------------------------------------------------

/** The tables a device holds (the schema's), in the server's parent-first order. */
export const TABLES = Object.keys(currentSchema.tables)

/** The device holds exactly the records `session` can list over REST, table by table. */
export async function checkMirrors(device, session, { tables = TABLES, what = 'records' } = {}) {
  const counts = {}
  for (const table of tables) {
    const local = await device.ids(table)
    const remote = new Set((await session.list(table)).map((r) => r.id))
    const missing = [...remote].filter((id) => !local.has(id))
    const extra = [...local].filter((id) => !remote.has(id))
    check(!missing.length && !extra.length, () =>
      `${device.name}: ${what}: ${table}: the device has ${local.size}, ${session.who} lists ` +
      `${remote.size} over REST; missing on the device ${short(missing.slice(0, 5))}, ` +
      `not on the server ${short(extra.slice(0, 5))}`)
    counts[table] = local.size
  }
  return counts
}

/** Ids of a table in a pull body, per kind. */
export function pulled(body, table) {
  const part = body?.changes?.[table] || { created: [], updated: [], deleted: [] }
  return {
    created: new Set(part.created.map((r) => r.id)),
    updated: new Set(part.updated.map((r) => r.id)),
    deleted: new Set(part.deleted),
  }
}

/** ms since the epoch of an ISO datetime from the REST API (null stays null). */
const ms = (iso) => (iso == null ? null : Date.parse(iso))

/**
 * The REST API's time `iso` as the device should hold it, for comparing with `local` (ms):
 * the API gives microseconds, the sync rounds them to ms and `Date.parse` truncates, so
 * 1 ms apart is the same time (then `local` is returned, else the parsed time).
 */
export const msLike = (local, iso) => {
  const time = ms(iso)
  return time != null && local != null && Math.abs(local - time) <= 1 ? local : time
}
