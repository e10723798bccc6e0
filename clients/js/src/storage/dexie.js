/**
 * DexieStorage: the storage interface on IndexedDB through Dexie 4. One object store per
 * synced table, keyed by `id`, with indexes on `customer_id`, `status`, `planned_at`,
 * `due_at`, `updated_at` and the folded search key `_search`; plus `_outbox` (ordered by
 * an auto-increment `seq`, unique mutation `id`), `_results` and `_meta`.
 *
 * In Node (tests), pass IndexedDB from fake-indexeddb:
 * `new DexieStorage('name', { indexedDB, IDBKeyRange })`.
 * @module
 */
import Dexie from 'dexie'
import { searchKey } from '../fold.js'
import { INDEXES, TABLES } from './interface.js'

const SEARCH = '_search'

/** @param {any} row */
function strip(row) {
  if (!row) return undefined
  const { [SEARCH]: _omit, ...record } = row
  return record
}

/** @typedef {import('./interface.js').Storage} Storage */

/** @implements {Storage} */
export class DexieStorage {
  /**
   * @param {string} [name] the IndexedDB database name (one per signed-in app install)
   * @param {{indexedDB?: IDBFactory, IDBKeyRange?: typeof IDBKeyRange, tables?: string[]}} [options]
   */
  constructor(name = 'fieldsync', options = {}) {
    const { tables = TABLES, ...dexieOptions } = options
    this.name = name
    /** @type {string[]} */
    this.tableNames = tables
    this.db = new Dexie(name, /** @type {any} */ (dexieOptions))
    /** @type {Record<string, string>} */
    const stores = {
      _outbox: '++seq, &id',
      _results: '&id',
      _meta: '&key',
    }
    for (const table of tables) stores[table] = ['&id', ...INDEXES, SEARCH].join(', ')
    this.db.version(1).stores(stores)
  }

  /** @param {string} table */
  _t(table) {
    if (!this.tableNames.includes(table)) {
      throw new Error(`DexieStorage: unknown table ${table} (known: ${this.tableNames.join(', ')})`)
    }
    return this.db.table(table)
  }

  /** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
  transaction(fn) {
    // An async scope: Dexie keeps the transaction alive across the native awaits inside
    // `fn` only when the scope itself is an async function (a plain arrow returning a
    // promise commits too early: PrematureCommitError).
    return this.db.transaction('rw', this.db.tables, async () => await fn())
  }

  /** @param {string} table @param {any[]} records */
  async put(table, records) {
    if (!records.length) return
    await this._t(table).bulkPut(records.map((r) => ({ ...r, [SEARCH]: searchKey(table, r) })))
  }

  /** @param {string} table @param {string[]} ids */
  async delete(table, ids) {
    if (ids.length) await this._t(table).bulkDelete(ids)
  }

  /** @param {string} table @param {string} id */
  async get(table, id) {
    return strip(await this._t(table).get(id))
  }

  /** @param {string} table */
  async all(table) {
    return (await this._t(table).toArray()).map(strip)
  }

  /** @param {string} table @param {string} index @param {any} value */
  async query(table, index, value) {
    const where = this._t(table).where(index)
    const rows = value && typeof value === 'object' && Array.isArray(value.between)
      ? await where.between(value.between[0], value.between[1], true, true).toArray()
      : await where.equals(value).toArray()
    return rows.map(strip)
  }

  /** @param {string} table @param {string} foldedText @param {number} [limit] */
  async search(table, foldedText, limit = Infinity) {
    let collection = this._t(table).filter((row) => Boolean(row[SEARCH]) && row[SEARCH].includes(foldedText))
    if (Number.isFinite(limit)) collection = collection.limit(limit)
    return (await collection.toArray()).map(strip)
  }

  /** @param {{keepOutbox?: boolean}} [options] */
  async clear({ keepOutbox = false } = {}) {
    await this.transaction(async () => {
      for (const table of this.tableNames) await this.db.table(table).clear()
      if (keepOutbox) {
        await this.db.table('_meta').delete('cursor')
      } else {
        await this.db.table('_outbox').clear()
        await this.db.table('_results').clear()
        await this.db.table('_meta').where('key').notEqual('deviceId').delete()
      }
    })
  }

  /** @param {string} key */
  async getMeta(key) {
    return (await this.db.table('_meta').get(key))?.value
  }

  /** @param {string} key @param {any} value */
  async setMeta(key, value) {
    if (value === undefined) await this.db.table('_meta').delete(key)
    else await this.db.table('_meta').put({ key, value })
  }

  /** @param {import('./interface.js').Mutation[]} mutations */
  async enqueue(mutations) {
    if (mutations.length) await this.db.table('_outbox').bulkAdd(mutations.map((m) => ({ id: m.id, mutation: m })))
  }

  /** @param {number} [n] */
  async peek(n = Infinity) {
    let collection = this.db.table('_outbox').orderBy('seq')
    if (Number.isFinite(n)) collection = collection.limit(n)
    return (await collection.toArray()).map((row) => row.mutation)
  }

  /** @param {string[]} ids */
  async ack(ids) {
    if (ids.length) await this.db.table('_outbox').where('id').anyOf(ids).delete()
  }

  async outboxSize() {
    return this.db.table('_outbox').count()
  }

  /** @param {import('./interface.js').SyncResult[]} results */
  async addResults(results) {
    if (results.length) await this.db.table('_results').bulkPut(results)
  }

  async listResults() {
    return this.db.table('_results').toArray()
  }

  /** @param {string} id */
  async removeResult(id) {
    await this.db.table('_results').delete(id)
  }

  /** Close the database (tests, sign-out of a whole app). */
  close() {
    this.db.close()
  }

  /** Delete the whole IndexedDB database. */
  async destroy() {
    await this.db.delete()
  }
}
