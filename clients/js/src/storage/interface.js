/**
 * The storage interface: what a local store gives the SyncClient. Three adapters exist:
 * `MemoryStorage` (plain Maps, for tests and short-lived tools), `IndexedDBStorage`
 * (records in memory, each transaction saved to IndexedDB as one log value: for browsers
 * and PWAs) and `DexieStorage` (one IndexedDB value per record, for data too large to
 * hold in memory). A SQLite adapter for React Native is
 * not part of this package: docs/js-sdk.md says what a native team implements.
 *
 * Rules every adapter keeps (test/storage-contract.js checks them on each):
 * - `transaction(fn)` runs `fn` all-or-nothing: when `fn` throws (or rejects), none of the
 *   writes it made through this storage remain, and the error is re-thrown. Transactions do
 *   not interleave with one another. Do not call `transaction` inside `fn`, and do not
 *   await anything but this storage inside it (IndexedDB commits a transaction that waits
 *   on anything else).
 * - Records are plain JSON objects with a string `id`; what `put` stores, `get`, `all`,
 *   `query` and `search` give back equal (a copy: changing it changes nothing stored).
 * - The outbox is first-in first-out: `peek(n)` gives the oldest `n` mutations in the
 *   order they were enqueued; `ack(ids)` removes those with these mutation ids.
 * - Indexes: every table answers `query` on `customer_id`, `status`, `planned_at`,
 *   `due_at` and `updated_at`; `search` matches records whose folded search key
 *   (`searchKey()` in fold.js) contains the folded text.
 *
 * @module
 */

/**
 * A mutation as pushed (docs/sync-protocol.md, "Push").
 * @typedef {object} Mutation
 * @property {string} id            UUID, made once when the edit is queued, kept on every retry
 * @property {string} table
 * @property {'create'|'update'|'delete'} op
 * @property {string} record_id
 * @property {number} [base_version]  for updates: the local copy's version
 * @property {string} [changed_at]   device time of the edit (ISO-8601)
 * @property {Record<string, any>} [fields]
 */

/**
 * A stored result of a push: a field the server kept over this device's value (`merged`),
 * or a rejected mutation.
 * @typedef {object} ConflictResult
 * @property {string} id               `${mutation_id}:${field}`
 * @property {'conflict'} kind
 * @property {string} table
 * @property {string} record_id
 * @property {string} field
 * @property {any} yours
 * @property {any} server
 * @property {'server'|'device'} kept
 * @property {string} reason
 * @property {string} mutation_id
 *
 * @typedef {object} RejectionResult
 * @property {string} id               the mutation's id
 * @property {'rejection'} kind
 * @property {Mutation} mutation
 * @property {string} code             e.g. `not_your_work`, `order_locked`, `validation_failed`
 * @property {string} message
 * @property {Record<string, string[]> | undefined} fields
 * @property {boolean} logged          false when the server's conflict log did not keep it
 *
 * @typedef {ConflictResult | RejectionResult} SyncResult
 */

/**
 * Exact match (`equals`) or an inclusive range (`between: [low, high]`) on an index.
 * @typedef {any | {between: [any, any]}} IndexValue
 */

/**
 * @typedef {object} Storage
 * @property {<T>(fn: () => Promise<T>) => Promise<T>} transaction  all-or-nothing
 * @property {(table: string, records: Record<string, any>[]) => Promise<void>} put  insert or overwrite by id
 * @property {(table: string, ids: string[]) => Promise<void>} delete  unknown ids are ignored
 * @property {(table: string, id: string) => Promise<Record<string, any> | undefined>} get
 * @property {(table: string) => Promise<Record<string, any>[]>} all
 * @property {(table: string, index: string, value: IndexValue) => Promise<Record<string, any>[]>} query
 * @property {(table: string, foldedText: string, limit?: number) => Promise<Record<string, any>[]>} search
 * @property {(options?: {keepOutbox?: boolean}) => Promise<void>} clear
 *   Drop every record and the pull cursor (meta `cursor`). Without `keepOutbox`, also the
 *   outbox, the results and every meta key but `deviceId` (a wipe).
 * @property {(key: string) => Promise<any>} getMeta   undefined when unset
 * @property {(key: string, value: any) => Promise<void>} setMeta  `undefined` removes the key
 * @property {(mutations: Mutation[]) => Promise<void>} enqueue  append, in order
 * @property {(n?: number) => Promise<Mutation[]>} peek   the oldest n (all when n is absent)
 * @property {(ids: string[]) => Promise<void>} ack       remove these mutation ids
 * @property {() => Promise<number>} outboxSize
 * @property {(results: SyncResult[]) => Promise<void>} addResults  stored by `id` (same id overwrites)
 * @property {() => Promise<SyncResult[]>} listResults
 * @property {(id: string) => Promise<void>} removeResult
 */

/** The fields every table answers `query` on. */
export const INDEXES = ['customer_id', 'status', 'planned_at', 'due_at', 'updated_at']

/**
 * The fields an adapter keeps a real index on, per table: those that table has and an app
 * looks records up by (a customer's children, the day's visits and tasks, statuses).
 * Every index costs each write of a first sync; `query` on any other of `INDEXES` scans.
 * @type {Record<string, string[]>}
 */
export const TABLE_INDEXES = {
  customers: ['status'],
  contacts: ['customer_id'],
  visits: ['customer_id', 'planned_at', 'status'],
  orders: ['customer_id', 'status'],
  tasks: ['customer_id', 'due_at'],
  route_plans: ['plan_date'],
}

/** The synced tables, in the order a first sync sends them. */
export const TABLES = [
  'teams', 'users', 'territories', 'products', 'customers',
  'contacts', 'visits', 'orders', 'tasks', 'route_plans',
]

/**
 * Whether `v` matches `value` (an exact key or `{between: [low, high]}`).
 * @param {any} v
 * @param {IndexValue} value
 */
export function matches(v, value) {
  if (value && typeof value === 'object' && Array.isArray(value.between)) {
    const [low, high] = value.between
    return v != null && v >= low && v <= high
  }
  return v === value
}
