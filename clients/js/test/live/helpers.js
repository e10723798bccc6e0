// Helpers of the live suite: REST sessions as demo users, a fetch that loses answers,
// and an SDK client on MemoryStorage, DexieStorage or IndexedDBStorage (fake-indexeddb).
import { randomUUID } from 'node:crypto'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { DexieStorage, IndexedDBStorage, MemoryStorage, SyncClient } from '@fieldsync/client'
import { bodyOf, encodingOf } from '../support/body.js'

export const BASE = (process.env.FIELDSYNC_URL || '').replace(/\/+$/, '')
export const DOMAIN = process.env.FIELDSYNC_DOMAIN || 'demo.fieldsync.dev'
export const PASSWORD = process.env.FIELDSYNC_PASSWORD || 'demo-pass-2026'
/** Skip the live suite when no server is given (`npm test` alone). */
export const skip = BASE ? false : 'FIELDSYNC_URL is not set (tests/e2e/test_js_sdk.py sets it)'
export const RUN = Date.now().toString(36)

export const email = (who) => (who.includes('@') ? who : `${who}@${DOMAIN}`)
const RESOURCE = { route_plans: 'route-plans' }

/** A REST session as a demo user, on its own device id. */
export class Rest {
  static async login(who) {
    const res = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: email(who), password: PASSWORD, device_id: `rest-${who}-${randomUUID()}` }),
    })
    const body = await res.json()
    if (res.status !== 200) throw new Error(`login ${who}: ${res.status} ${JSON.stringify(body)}`)
    return Object.assign(new Rest(), { who, token: body.access_token, user: body.user })
  }

  async request(method, path, body) {
    const res = await fetch(`${BASE}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  async ok(method, path, body) {
    const res = await this.request(method, path, body)
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${this.who}: ${method} ${path} answered ${res.status} ${JSON.stringify(res.body)}`)
    }
    return res.body
  }

  /** Every record of `table` this user can list (all pages). */
  async list(table, query = {}) {
    const items = []
    let cursor = null
    for (;;) {
      const params = new URLSearchParams({ ...query, limit: '500' })
      if (cursor) params.set('cursor', cursor)
      const page = await this.ok('GET', `/api/v1/${RESOURCE[table] || table}?${params}`)
      items.push(...page.items)
      if (!page.has_more) return items
      cursor = page.next_cursor
    }
  }

  async find(table, id) {
    const res = await this.request('GET', `/api/v1/${RESOURCE[table] || table}/${id}`)
    return res.status === 200 ? res.body : null
  }
}

/**
 * A fetch that records requests and can lose answers: `lose(pathPart)` makes the next
 * request whose path contains `pathPart` reach the server, then throw as if the
 * connection dropped before the answer came.
 */
export function lossyFetch() {
  const lost = []
  const log = []
  const f = async (url, init = {}) => {
    const path = new URL(url).pathname
    log.push({ method: init.method, path, body: bodyOf(init), encoding: encodingOf(init) })
    const res = await fetch(url, init)
    // What the answer came in: fetch has decoded it already, and keeps the header.
    log[log.length - 1].answerEncoding = res.headers.get('content-encoding')
    const i = lost.indexOf(lost.find((p) => path.includes(p)))
    if (i >= 0) {
      lost.splice(i, 1)
      await res.arrayBuffer() // the server handled it; the answer is dropped
      log[log.length - 1].lost = true
      throw new TypeError('fetch failed: answer lost')
    }
    const copy = res.clone()
    log[log.length - 1].answer = copy.headers.get('content-type')?.includes('json') ? await copy.json().catch(() => null) : null
    return res
  }
  f.lose = (part) => lost.push(part)
  f.log = log
  return f
}

let n = 0
/** A signed-in SDK client as `who`. */
export async function device(who, { adapter = 'memory', fetch: f = lossyFetch(), ...options } = {}) {
  const name = `live-${who}-${RUN}-${++n}`
  const storage = {
    memory: () => new MemoryStorage(),
    dexie: () => new DexieStorage(name, { indexedDB: new IDBFactory(), IDBKeyRange }),
    indexeddb: () => new IndexedDBStorage(name, { indexedDB: new IDBFactory(), IDBKeyRange }),
  }[adapter]()
  const client = new SyncClient({
    baseUrl: BASE, storage, fetch: f, deviceName: `sdk-live-${who}`,
    retry: { baseMs: 20, maxMs: 200, attempts: 5 }, ...options,
  })
  await client.signIn(email(who), PASSWORD)
  return { client, storage, fetch: f }
}

export const pushesOf = (f) => f.log.filter((r) => r.path === '/api/v1/sync/push')
