/**
 * DexieStorage: the storage interface on IndexedDB through Dexie 4. One object store per
 * synced table, keyed by `id`, with the indexes of `TABLE_INDEXES` (a query on another
 * field scans); plus `_outbox` (ordered by an auto-increment `seq`, unique mutation `id`),
 * `_results` and `_meta`.
 *
 * Records are stored as they are: no search key is computed while a first sync writes
 * thousands of them. IndexedDB has no substring index, so search runs in memory over each
 * table's folded search keys, made on the first search of a table and kept up to date by
 * every write through this adapter (and dropped when a transaction fails).
 *
 * In Node (tests), pass IndexedDB from fake-indexeddb:
 * `new DexieStorage('name', { indexedDB, IDBKeyRange })`.
 * @module
 */
import Dexie from 'dexie'
import { searchKey } from '../fold.js'
import { matches, TABLE_INDEXES, TABLES } from './interface.js'

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
    for (const table of tables) stores[table] = ['&id', ...(TABLE_INDEXES[table] || [])].join(', ')
    this.db.version(1).stores(stores)
    /** Per table, id -> folded search key, once a search needed it. @type {Map<string, Map<string, string>>} */
    this._keys = new Map()
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
    return this.db.transaction('rw', this.db.tables, async () => await fn()).catch((error) => {
      this._keys.clear() // the writes were undone: so is what the search keys learnt of them
      throw error
    })
  }

  /** @param {string} table @param {any[]} records */
  async put(table, records) {
    if (!records.length) return
    await this._t(table).bulkPut(records)
    const keys = this._keys.get(table)
    if (keys) for (const record of records) keys.set(record.id, searchKey(table, record))
  }

  /** @param {string} table @param {string[]} ids */
  async delete(table, ids) {
    if (!ids.length) return
    await this._t(table).bulkDelete(ids)
    const keys = this._keys.get(table)
    if (keys) for (const id of ids) keys.delete(id)
  }

  /** @param {string} table @param {string} id */
  async get(table, id) {
    return this._t(table).get(id)
  }

  /** @param {string} table */
  async all(table) {
    return this._t(table).toArray()
  }

  /** @param {string} table @param {string} index @param {any} value */
  async query(table, index, value) {
    if (!(TABLE_INDEXES[table] || []).includes(index)) {
      return this._t(table).filter((row) => matches(row[index], value)).toArray()
    }
    const where = this._t(table).where(index)
    return value && typeof value === 'object' && Array.isArray(value.between)
      ? where.between(value.between[0], value.between[1], true, true).toArray()
      : where.equals(value).toArray()
  }

  /** @param {string} table @param {string} foldedText @param {number} [limit] */
  async search(table, foldedText, limit = Infinity) {
    const keys = await this._searchKeys(table)
    const ids = []
    for (const [id, key] of keys) {
      if (ids.length >= limit) break
      if (key && key.includes(foldedText)) ids.push(id)
    }
    return (await this._t(table).bulkGet(ids)).filter(Boolean)
  }

  /** @param {string} table */
  async _searchKeys(table) {
    let keys = this._keys.get(table)
    if (!keys) {
      keys = new Map()
      // One read of the table (a cursor's round trip per record is many times slower).
      for (const record of await this._t(table).toArray()) keys.set(record.id, searchKey(table, record))
      this._keys.set(table, keys)
    }
    return keys
  }

  /** @param {{keepOutbox?: boolean}} [options] */
  async clear({ keepOutbox = false } = {}) {
    this._keys.clear()
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
