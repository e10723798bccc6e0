/**
 * @fieldsync/client: an offline-first sync client for fieldsync (docs/js-sdk.md).
 * @module
 */
export { SyncClient, MAX_PUSH } from './client.js'
export { MemoryStorage } from './storage/memory.js'
export { DexieStorage } from './storage/dexie.js'
export { IndexedDBStorage } from './storage/indexeddb.js'
export { TABLES, INDEXES, TABLE_INDEXES } from './storage/interface.js'
export { orderTotal, lineTotal } from './money.js'
export { fold, searchKey, SEARCH_FIELDS } from './fold.js'
export { FieldsyncError } from './errors.js'
export { Emitter } from './emitter.js'
export { COMPRESS_ABOVE, encodeBody } from './compression.js'
