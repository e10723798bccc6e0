/**
 * IndexedDBStorage: records in memory, every transaction saved to IndexedDB as one value.
 *
 * A first sync writes thousands of records. Stored one IndexedDB value per record
 * (`DexieStorage`), each costs a serialisation, a key and its index entries; here a whole
 * transaction (a pull page with its cursor, a push answer with the outbox entries it
 * acknowledges) is one value in a log, written before the transaction resolves, so what
 * `transaction` committed survives a closed tab or a killed app. When the log grows past
 * `compactAfter` entries, the whole store is rewritten as a snapshot of large chunks and
 * the log emptied, in one IndexedDB transaction. Opening replays the snapshot and the log.
 * The same idea as WatermelonDB's LokiJS adapter with incremental IndexedDB, with the
 * outbox inside the same atomic writes. Reads, queries and search run in memory
 * (`MemoryStorage`), so the whole local database lives in memory: right for a rep's scope.
 * @module
 */
import Dexie from 'dexie'
import { MemoryStorage } from './memory.js'

/** Writes that run in a transaction of their own when called outside one. */
const WRITES = ['put', 'delete', 'clear', 'setMeta', 'enqueue', 'ack', 'addResults', 'removeResult']
/** Reads that wait until the stored data is loaded. */
const READS = ['get', 'all', 'query', 'search', 'getMeta', 'peek', 'outboxSize', 'listResults']
const CHUNK = 2000

/** @typedef {import('./interface.js').Storage} Storage */

/** @implements {Storage} */
export class IndexedDBStorage extends MemoryStorage {
  /**
   * @param {string} [name] the IndexedDB database name (one per signed-in app install)
   * @param {{indexedDB?: IDBFactory, IDBKeyRange?: typeof IDBKeyRange, compactAfter?: number}} [options]
   */
  constructor(name = 'fieldsync', options = {}) {
    super()
    const { compactAfter = 64, ...dexieOptions } = options
    this.name = name
    this.compactAfter = compactAfter
    this.db = new Dexie(name, /** @type {any} */ (dexieOptions))
    this.db.version(1).stores({ log: '++seq', snapshot: '&key' })
    /** @type {Array<[string, any, any]> | null} what the running transaction wrote */
    this._dirty = null
    this._logged = 0
    this._loaded = this._load()
  }

  /** Records given to `put` come from the caller's fresh objects (parsed pages): kept as they are. @param {any} record */
  _own(record) {
    return record
  }

  /** @param {string} kind @param {any} name @param {any} [key] */
  _touched(kind, name, key) {
    if (this._dirty) this._dirty.push([kind, name, key])
  }

  /** @template T @param {() => Promise<T>} fn @returns {Promise<T>} */
  transaction(fn) {
    return super.transaction(async () => {
      await this._loaded
      this._dirty = []
      try {
        const value = await fn()
        await this._save(this._dirty) // a failure here undoes the memory writes too
        return value
      } finally {
        this._dirty = null
      }
    })
  }

  /** The committed transaction's changes as one log entry. @param {Array<[string, any, any]>} dirty */
  async _save(dirty) {
    if (!dirty.length) return
    const entry = this._entry(dirty)
    const log = this.db.table('log')
    // Resolves once IndexedDB has committed it: what the caller is told is saved, is.
    await this.db.transaction('rw', log, () => log.add(entry))
    // A wipe erases what is on disk too (a revoked phone's data), not only what is read.
    if (entry.clear || ++this._logged >= this.compactAfter) await this._compact()
  }

  /** @param {Array<[string, any, any]>} dirty */
  _entry(dirty) {
    /** @type {{clear?: boolean[], tables: Record<string, {put: any[], del: string[]}>, meta: Array<[string, any]>, outbox: {add: any[], del: string[]}, results: {put: any[], del: string[]}}} */
    const entry = { tables: {}, meta: [], outbox: { add: [], del: [] }, results: { put: [], del: [] } }
    /** @type {Map<string, Set<any>>} */
    const keys = new Map()
    for (const [kind, name, key] of dirty) {
      if (kind === 'clear') {
        entry.clear = [...(entry.clear || []), name]
        continue
      }
      const group = kind === 'table' ? `table:${name}` : kind
      if (!keys.has(group)) keys.set(group, new Set())
      keys.get(group)?.add(key)
    }
    for (const [group, ids] of keys) {
      if (group.startsWith('table:')) {
        const table = group.slice(6)
        const rows = this.tables.get(table)
        const change = (entry.tables[table] = { put: /** @type {any[]} */ ([]), del: /** @type {string[]} */ ([]) })
        for (const id of ids) {
          const row = rows?.get(id)
          if (row) change.put.push(row.record)
          else change.del.push(id)
        }
      } else if (group === 'meta') {
        for (const key of ids) entry.meta.push([key, this.meta.get(key)])
      } else if (group === 'results') {
        for (const id of ids) {
          if (this.results.has(id)) entry.results.put.push(this.results.get(id))
          else entry.results.del.push(id)
        }
      } else {
        for (const id of ids) if (!this.outbox.has(id)) entry.outbox.del.push(id)
        for (const [id, m] of this.outbox) if (ids.has(id)) entry.outbox.add.push(m) // queue order
      }
    }
    return entry
  }

  /** Replay an entry on the memory store (nothing is saved while loading). @param {any} entry */
  async _replay(entry) {
    for (const keepOutbox of entry.clear || []) await MemoryStorage.prototype.clear.call(this, { keepOutbox })
    for (const [table, change] of Object.entries(entry.tables)) {
      await MemoryStorage.prototype.delete.call(this, table, change.del)
      await MemoryStorage.prototype.put.call(this, table, change.put)
    }
    for (const [key, value] of entry.meta) await MemoryStorage.prototype.setMeta.call(this, key, value)
    await MemoryStorage.prototype.ack.call(this, [...entry.outbox.del, ...entry.outbox.add.map((/** @type {any} */ m) => m.id)])
    await MemoryStorage.prototype.enqueue.call(this, entry.outbox.add)
    await MemoryStorage.prototype.addResults.call(this, entry.results.put)
    for (const id of entry.results.del) await MemoryStorage.prototype.removeResult.call(this, id)
  }

  async _load() {
    const snapshot = await this.db.table('snapshot').toArray()
    /** @type {any} */
    const entry = { tables: {}, meta: [], outbox: { add: [], del: [] }, results: { put: [], del: [] } }
    for (const part of snapshot) {
      if (part.table) (entry.tables[part.table] ||= { put: [], del: [] }).put.push(...part.records)
      else if (part.key === 'meta') entry.meta = part.entries
      else if (part.key === 'outbox') entry.outbox.add = part.items
      else if (part.key === 'results') entry.results.put = part.items
    }
    await this._replay(entry)
    const log = await this.db.table('log').orderBy('seq').toArray()
    for (const logged of log) await this._replay(logged)
    this._logged = log.length
  }

  /** Rewrite the store as a snapshot of large chunks and empty the log, atomically. */
  async _compact() {
    /** @type {Record<string, any>[]} */
    const parts = []
    for (const [table, rows] of this.tables) {
      const records = [...rows.values()].map((row) => row.record)
      for (let i = 0; i < records.length; i += CHUNK) {
        parts.push({ key: `table:${table}:${i / CHUNK}`, table, records: records.slice(i, i + CHUNK) })
      }
    }
    parts.push({ key: 'meta', entries: [...this.meta] })
    parts.push({ key: 'outbox', items: [...this.outbox.values()] })
    parts.push({ key: 'results', items: [...this.results.values()] })
    const log = this.db.table('log')
    const snapshot = this.db.table('snapshot')
    await this.db.transaction('rw', log, snapshot, async () => {
      await snapshot.clear()
      await snapshot.bulkPut(parts)
      await log.clear()
    })
    this._logged = 0
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

/** @type {any} */
const memory = MemoryStorage.prototype
/** @type {any} */
const persisted = IndexedDBStorage.prototype
for (const name of WRITES) {
  const write = memory[name]
  persisted[name] = function (/** @type {any[]} */ ...args) {
    return this._dirty ? write.apply(this, args) : this.transaction(() => write.apply(this, args))
  }
}
for (const name of READS) {
  const read = memory[name]
  persisted[name] = async function (/** @type {any[]} */ ...args) {
    await this._loaded
    return read.apply(this, args)
  }
}
