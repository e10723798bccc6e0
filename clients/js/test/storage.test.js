// The storage contract on every adapter: MemoryStorage, and DexieStorage and
// IndexedDBStorage on fake-indexeddb; then what IndexedDBStorage must keep across a reopen.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { DexieStorage, IndexedDBStorage, MemoryStorage } from '@fieldsync/client'
import { storageContract } from './support/storage-contract.js'

let n = 0
storageContract('MemoryStorage', async () => new MemoryStorage())
storageContract('DexieStorage', async () =>
  new DexieStorage(`contract-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }))
storageContract('IndexedDBStorage', async () =>
  new IndexedDBStorage(`contract-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }))
storageContract('IndexedDBStorage, compacting after every write', async () =>
  new IndexedDBStorage(`contract-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange, compactAfter: 1 }))

describe('IndexedDBStorage keeps what was committed across a reopen', () => {
  const m = (id) => ({ id, table: 'customers', op: 'update', record_id: 'a', base_version: 1, fields: {} })

  for (const compactAfter of [64, 2]) {
    test(`records, meta, outbox order and results (compactAfter ${compactAfter})`, async () => {
      const indexedDB = new IDBFactory()
      const open = () => new IndexedDBStorage('app', { indexedDB, IDBKeyRange, compactAfter })
      const s = open()
      await s.transaction(async () => {
        await s.put('customers', [{ id: 'a', name: 'Nguyễn An' }, { id: 'b', name: 'B' }])
        await s.setMeta('cursor', 'c1')
        await s.enqueue([m('m1'), m('m2'), m('m3')])
      })
      await s.transaction(async () => {
        await s.delete('customers', ['b'])
        await s.ack(['m2'])
        await s.addResults([{ id: 'r1', kind: 'rejection', code: 'order_locked' }])
      })
      await s.put('contacts', [{ id: 'k', customer_id: 'a', name: 'K' }]) // outside a transaction
      await assert.rejects(s.transaction(async () => {
        await s.put('customers', [{ id: 'lost', name: 'never stored' }])
        throw new Error('boom')
      }))
      s.close()

      const again = open()
      assert.deepEqual((await again.all('customers')).map((r) => r.id), ['a'])
      assert.equal((await again.search('customers', 'nguyen'))[0].id, 'a')
      assert.equal(await again.getMeta('cursor'), 'c1')
      assert.deepEqual((await again.peek()).map((x) => x.id), ['m1', 'm3'])
      assert.deepEqual((await again.listResults()).map((r) => r.id), ['r1'])
      assert.deepEqual(await again.query('contacts', 'customer_id', 'a'), [{ id: 'k', customer_id: 'a', name: 'K' }])
      await again.transaction(() => again.clear({ keepOutbox: true }))
      again.close()
      const third = open()
      assert.deepEqual(await third.all('customers'), [])
      assert.equal(await third.getMeta('cursor'), undefined)
      assert.deepEqual((await third.peek()).map((x) => x.id), ['m1', 'm3'])
      third.close()
    })
  }

  test('a wipe (clear) erases the records from IndexedDB itself, not only from what is read', async () => {
    const indexedDB = new IDBFactory()
    const s = new IndexedDBStorage('wipe', { indexedDB, IDBKeyRange, compactAfter: 2 })
    await s.put('customers', [{ id: 'a', name: 'Secret shop' }])
    await s.put('customers', [{ id: 'b', name: 'Another secret' }]) // compacted into the snapshot
    await s.put('contacts', [{ id: 'k', customer_id: 'a', name: 'In the log' }])
    await s.setMeta('deviceId', 'd1')
    await s.clear()
    const stored = JSON.stringify([await s.db.table('log').toArray(), await s.db.table('snapshot').toArray()])
    assert.doesNotMatch(stored, /secret|In the log/i)
    assert.match(stored, /d1/) // the device id survives a wipe
    s.close()
  })

  test('a transaction whose save fails leaves memory as it was', async () => {
    const s = new IndexedDBStorage('failing', { indexedDB: new IDBFactory(), IDBKeyRange })
    await s.put('customers', [{ id: 'a', name: 'A' }])
    s.db.table('log').add = async () => { throw new Error('QuotaExceededError') }
    await assert.rejects(s.transaction(async () => {
      await s.put('customers', [{ id: 'b', name: 'B' }])
      await s.enqueue([m('m1')])
    }), /QuotaExceededError/)
    assert.deepEqual((await s.all('customers')).map((r) => r.id), ['a'])
    assert.equal(await s.outboxSize(), 0)
  })
})
