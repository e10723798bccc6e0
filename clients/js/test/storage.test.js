// The storage contract on both adapters: MemoryStorage, and DexieStorage on fake-indexeddb.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { DexieStorage, MemoryStorage } from '@fieldsync/client'
import { storageContract } from './support/storage-contract.js'

let n = 0
storageContract('MemoryStorage', async () => new MemoryStorage())
storageContract('DexieStorage', async () =>
  new DexieStorage(`contract-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }))
