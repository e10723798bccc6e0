/**
 * MemoryStorage: the storage interface on plain Maps. Transactions keep an undo log and
 * roll it back when their function throws; they run one at a time. Search keys are made
 * on a record's first search, not on every write. `IndexedDBStorage` builds on it.
 * @module
 */
import { searchKey } from '../fold.js'
import { matches } from './interface.js'

const copy = (/** @type {any} */ v) => (v === undefined ? undefined : structuredClone(v))

/** @typedef {import('./interface.js').Storage} Storage */

/** @implements {Storage} */
export class MemoryStorage {
  constructor() {
    /** @type {Map<string, Map<string, {record: any, search: string | null}>>} */
    this.tables = new Map()
    /** @type {Map<string, any>} */
    this.meta = new Map()
    /** @type {Map<string, import('./interface.js').Mutation>} insertion order = outbox order */
    this.outbox = new Map()
    /** @type {Map<string, import('./interface.js').SyncResult>} */
    this.results = new Map()
    /** @type {Array<() => void> | null} the running transaction's undo log */
    this._undo = null
    /** @type {Promise<unknown>} */
    this._lock = Promise.resolve()
  }

  /** @param {string} table */
  _table(table) {
    let t = this.tables.get(table)
    if (!t) this.tables.set(table, (t = new Map()))
    return t
  }

  /**
   * What a subclass stores of a record given to `put` (here: a copy, so the caller's
   * object stays theirs). @param {any} record
   */
  _own(record) {
    return copy(record)
  }

  /**
   * Told of every write, for a subclass that saves them: `kind` is `table` (with the table
   * and record id), `meta`, `outbox` or `results` (with the key), or `clear`.
   * @param {'table'|'meta'|'outbox'|'results'|'clear'} _kind @param {any} _name @param {any} [_key]
   */
  _touched(_kind, _name, _key) {}

  /** Note how to restore `map`'s entry `key` as it is now. @param {Map<any, any>} map @param {any} key */
  _remember(map, key) {
    if (!this._undo) return
    const had = map.has(key)
    const old = map.get(key)
    this._undo.push(() => (had ? map.set(key, old) : map.delete(key)))
  }

  /** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
  transaction(fn) {
    const run = async () => {
      this._undo = []
      try {
        return await fn()
      } catch (error) {
        for (const undo of this._undo.reverse()) undo()
        throw error
      } finally {
        this._undo = null
      }
    }
    const result = this._lock.then(run, run)
    this._lock = result.catch(() => {})
    return result
  }

  /** @param {string} table @param {any[]} records */
  async put(table, records) {
    const t = this._table(table)
    for (const record of records) {
      this._remember(t, record.id)
      t.set(record.id, { record: this._own(record), search: null })
      this._touched('table', table, record.id)
    }
  }

  /** @param {string} table @param {string[]} ids */
  async delete(table, ids) {
    const t = this._table(table)
    for (const id of ids) {
      if (!t.has(id)) continue
      this._remember(t, id)
      t.delete(id)
      this._touched('table', table, id)
    }
  }

  /** @param {string} table @param {string} id */
  async get(table, id) {
    return copy(this.tables.get(table)?.get(id)?.record)
  }

  /** @param {string} table */
  async all(table) {
    return [...(this.tables.get(table)?.values() || [])].map((row) => copy(row.record))
  }

  /** @param {string} table @param {string} index @param {any} value */
  async query(table, index, value) {
    return [...(this.tables.get(table)?.values() || [])]
      .filter((row) => matches(row.record[index], value))
      .map((row) => copy(row.record))
  }

  /** @param {string} table @param {string} foldedText @param {number} [limit] */
  async search(table, foldedText, limit = Infinity) {
    const found = []
    for (const row of this.tables.get(table)?.values() || []) {
      if (found.length >= limit) break
      row.search ??= searchKey(table, row.record)
      if (row.search && row.search.includes(foldedText)) found.push(copy(row.record))
    }
    return found
  }

  /** @param {{keepOutbox?: boolean}} [options] */
  async clear({ keepOutbox = false } = {}) {
    this._touched('clear', keepOutbox)
    for (const [name, t] of this.tables) {
      this.tables.set(name, new Map())
      if (this._undo) this._undo.push(() => this.tables.set(name, t))
    }
    const dropMeta = keepOutbox ? ['cursor'] : [...this.meta.keys()].filter((k) => k !== 'deviceId')
    for (const key of dropMeta) {
      this._remember(this.meta, key)
      this.meta.delete(key)
    }
    if (!keepOutbox) {
      for (const map of /** @type {Map<string, any>[]} */ ([this.outbox, this.results])) {
        const entries = [...map]
        map.clear()
        if (this._undo) this._undo.push(() => { map.clear(); for (const [k, v] of entries) map.set(k, v) })
      }
    }
  }

  /** @param {string} key */
  async getMeta(key) {
    return copy(this.meta.get(key))
  }

  /** @param {string} key @param {any} value */
  async setMeta(key, value) {
    this._remember(this.meta, key)
    if (value === undefined) this.meta.delete(key)
    else this.meta.set(key, copy(value))
    this._touched('meta', null, key)
  }

  /** @param {import('./interface.js').Mutation[]} mutations */
  async enqueue(mutations) {
    for (const m of mutations) {
      this._remember(this.outbox, m.id)
      this.outbox.set(m.id, copy(m))
      this._touched('outbox', null, m.id)
    }
  }

  /** @param {number} [n] */
  async peek(n = Infinity) {
    const out = []
    for (const m of this.outbox.values()) {
      if (out.length >= n) break
      out.push(copy(m))
    }
    return out
  }

  /** @param {string[]} ids */
  async ack(ids) {
    if (this._undo && ids.some((id) => this.outbox.has(id))) {
      const entries = [...this.outbox] // order matters: restore the whole queue
      this._undo.push(() => { this.outbox.clear(); for (const [k, v] of entries) this.outbox.set(k, v) })
    }
    for (const id of ids) {
      if (this.outbox.delete(id)) this._touched('outbox', null, id)
    }
  }

  async outboxSize() {
    return this.outbox.size
  }

  /** @param {import('./interface.js').SyncResult[]} results */
  async addResults(results) {
    for (const r of results) {
      this._remember(this.results, r.id)
      this.results.set(r.id, copy(r))
      this._touched('results', null, r.id)
    }
  }

  async listResults() {
    return [...this.results.values()].map(copy)
  }

  /** @param {string} id */
  async removeResult(id) {
    this._remember(this.results, id)
    this.results.delete(id)
    this._touched('results', null, id)
  }
}
