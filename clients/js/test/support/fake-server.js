// A small in-process fieldsync for unit tests: `server.fetch` answers the SDK's requests
// (login, refresh with the lost-answer retry, logout, push with idempotent mutation ids,
// pull with a numeric cursor, paging and reset) and lets a test inject faults.
import { randomUUID } from 'node:crypto'
import { bodyOf, encodingOf } from './body.js'

const json = (status, body, headers = {}) =>
  new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
const error = (status, code, extra = {}) => json(status, { error: { code, message: code }, ...extra })

export class FakeServer {
  constructor() {
    this.user = { id: 'u-rep', name: 'Rep', role: 'rep' }
    /** @type {Map<string, Map<string, any>>} */
    this.tables = new Map()
    /** @type {{seq: number, table: string, id: string, op: 'put'|'delete'}[]} */
    this.log = []
    this.seq = 0
    /** mutation id → result */
    this.results = new Map()
    /** how often each mutation id was applied (not replayed) */
    this.applied = new Map()
    this.access = new Set()
    /** refresh token → {successor?, usedAt?} */
    this.refresh = new Map()
    this.revoked = null // {wipe}
    this.resetNext = false
    /** Fields whose server value wins a concurrent edit (merged with a conflict). */
    this.serverWins = new Set(['phone'])
    /** Faults, consumed in order: {path, kind: 'drop'|'drop-before'|'503'|'expire', retryAfter?} */
    this.faults = []
    this.requests = []
    this.fetch = this.fetch.bind(this)
  }

  /** Put a record on the server as a server-side write. */
  serverPut(table, record) {
    const t = this._t(table)
    const old = t.get(record.id)
    const stored = { ...old, ...record, version: (old?.version ?? 0) + 1, updated_at: new Date().toISOString() }
    t.set(record.id, stored)
    this._logChange(table, record.id, 'put')
    return stored
  }

  serverDelete(table, id) {
    this._t(table).delete(id)
    this._logChange(table, id, 'delete')
  }

  _t(table) {
    if (!this.tables.has(table)) this.tables.set(table, new Map())
    return this.tables.get(table)
  }

  _logChange(table, id, op) {
    this.log.push({ seq: ++this.seq, table, id, op })
  }

  _fault(path) {
    const i = this.faults.findIndex((f) => f.path === path)
    return i < 0 ? null : this.faults.splice(i, 1)[0]
  }

  async fetch(url, init = {}) {
    const { pathname, searchParams } = new URL(url)
    const body = bodyOf(init)
    this.requests.push({ method: init.method, path: pathname, body, encoding: encodingOf(init) })
    const fault = this._fault(pathname)
    if (fault?.kind === 'drop-before') throw new TypeError('fetch failed')
    if (fault?.kind === '503') return json(503, { error: { code: 'overloaded', message: 'busy' } }, { 'Retry-After': String(fault.retryAfter ?? 0) })
    const answer = await this._handle(init.method, pathname, searchParams, body, init.headers || {}, fault)
    if (fault?.kind === 'drop') throw new TypeError('fetch failed (answer lost)')
    if (fault?.kind === '503-after') return json(503, { error: { code: 'database_unavailable' } }, { 'Retry-After': String(fault.retryAfter ?? 0) })
    return answer
  }

  _issue() {
    const access = `a-${randomUUID()}`
    const refresh = `r-${randomUUID()}`
    this.access.add(access)
    this.refresh.set(refresh, {})
    return { access_token: access, token_type: 'Bearer', expires_in: 900, refresh_token: refresh, refresh_expires_in: 1209600 }
  }

  _auth(headers) {
    if (this.revoked) return error(401, 'device_revoked', { wipe: this.revoked.wipe })
    const token = (headers.Authorization || '').replace('Bearer ', '')
    if (!this.access.has(token)) return error(401, 'token_expired')
    return null
  }

  async _handle(method, path, params, body, headers, fault) {
    if (path === '/api/v1/auth/login') {
      if (body.password !== 'pw') return error(401, 'invalid_credentials')
      this.deviceId = body.device_id
      return json(200, { ...this._issue(), user: this.user })
    }
    if (path === '/api/v1/auth/refresh') {
      if (this.revoked) return error(401, 'device_revoked', { wipe: this.revoked.wipe })
      const entry = this.refresh.get(body.refresh_token)
      if (!entry) return error(401, 'invalid_token')
      if (entry.successor) {
        if (Date.now() - entry.usedAt > 60_000 || this.refresh.get(entry.successor).successor) {
          return error(401, 'refresh_token_reused')
        }
        const access = `a-${randomUUID()}`
        this.access.add(access)
        return json(200, { access_token: access, expires_in: 900, refresh_token: entry.successor })
      }
      const pair = this._issue()
      entry.successor = pair.refresh_token
      entry.usedAt = Date.now()
      return json(200, pair)
    }
    if (path === '/api/v1/auth/logout') return json(204, null)
    const denied = this._auth(headers)
    if (denied) return denied
    if (fault?.kind === 'expire') {
      this.access.clear()
      return error(401, 'token_expired')
    }
    if (path === '/api/v1/sync/push') return this._push(body)
    if (path === '/api/v1/sync/pull') return this._pull(params)
    return error(404, 'not_found')
  }

  _push(body) {
    if ((body.schema_version ?? 1) !== 1) return error(426, 'unsupported_schema_version')
    if (body.mutations.length > 500) return error(413, 'too_many_mutations')
    // A push may carry a pull (ADR 0028): a bad cursor is refused before anything is applied.
    if (body.pull?.cursor === 'bad') return error(400, 'invalid_cursor')
    const results = body.mutations.map((m) => {
      const known = this.results.get(m.id)
      if (known) return { ...known, replayed: true }
      const result = this._apply(m)
      this.applied.set(m.id, (this.applied.get(m.id) ?? 0) + 1)
      this.results.set(m.id, result)
      return result
    })
    if (!body.pull) return json(200, { results })
    const pull = this._page(body.pull.cursor, body.pull.limit)
    return json(200, { results, pull })
  }

  _apply(m) {
    const t = this._t(m.table)
    const current = t.get(m.record_id)
    const reject = (code) => ({ id: m.id, status: 'rejected', error: { code, message: code }, ...(current ? { record: current } : {}) })
    if (m.fields?.rep_id === 'someone-else') return reject('not_your_work')
    if (m.op === 'create') {
      if (current) return reject('already_exists')
      return { id: m.id, status: 'applied', record: this.serverPut(m.table, { id: m.record_id, ...m.fields }) }
    }
    if (!current) return reject('forbidden')
    if (m.op === 'delete') {
      this.serverDelete(m.table, m.record_id)
      return { id: m.id, status: 'applied' }
    }
    if (current.status === 'submitted') return reject('order_locked')
    const conflicts = []
    const fields = { ...m.fields }
    for (const [field, value] of Object.entries(m.fields)) {
      if (current.version > m.base_version && this.serverWins.has(field) && current[field] !== value) {
        conflicts.push({ field, yours: value, server: current[field], kept: 'server', reason: 'changed on the server after your edit' })
        delete fields[field]
      }
    }
    const record = this.serverPut(m.table, { id: m.record_id, ...fields })
    return conflicts.length ? { id: m.id, status: 'merged', record, conflicts } : { id: m.id, status: 'applied', record }
  }

  _pull(params) {
    if ((Number(params.get('schema_version') ?? 1)) !== 1) return error(426, 'unsupported_schema_version')
    const cursor = params.get('cursor')
    if (cursor === 'bad') return error(400, 'invalid_cursor')
    return json(200, this._page(cursor, params.get('limit')))
  }

  /** A pull page after `cursor` (valid), as `/sync/pull` and a push with `pull` answer it. */
  _page(cursor, limitText) {
    const limit = Number(limitText || 500)
    if (!cursor || this.resetNext) {
      const reset = Boolean(cursor) && this.resetNext
      this.resetNext = false
      const changes = []
      for (const [table, t] of this.tables) for (const record of t.values()) changes.push({ table, op: 'put', record })
      return { changes, cursor: String(this.seq), has_more: false, reset }
    }
    const after = this.log.filter((e) => e.seq > Number(cursor))
    const page = after.slice(0, limit)
    const latest = new Map()
    for (const e of page) latest.set(`${e.table}/${e.id}`, e)
    const changes = [...latest.values()].sort((a, b) => a.seq - b.seq).map((e) => {
      const record = this._t(e.table).get(e.id)
      return e.op === 'put' && record ? { table: e.table, op: 'put', record } : { table: e.table, op: 'delete', id: e.id }
    })
    const last = page.length ? page[page.length - 1].seq : Number(cursor)
    return { changes, cursor: String(last), has_more: after.length > limit, reset: false }
  }
}
