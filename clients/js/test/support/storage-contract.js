// The storage contract: every adapter passes the same tests (storage.test.js runs them on
// MemoryStorage and on DexieStorage over fake-indexeddb).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

const m = (id, extra = {}) => ({ id, table: 'customers', op: 'update', record_id: 'c1', base_version: 1, fields: { name: id }, ...extra })

/**
 * @param {string} name
 * @param {() => Promise<import('../../src/storage/interface.js').Storage>} make a new, empty storage
 */
export function storageContract(name, make) {
  describe(`storage contract: ${name}`, () => {
    test('put, get, all, delete; records come back as copies', async () => {
      const s = await make()
      await s.put('customers', [{ id: 'a', name: 'A', version: 1 }, { id: 'b', name: 'B', version: 2 }])
      assert.deepEqual(await s.get('customers', 'a'), { id: 'a', name: 'A', version: 1 })
      assert.equal(await s.get('customers', 'zz'), undefined)
      const got = await s.get('customers', 'a')
      got.name = 'changed'
      assert.equal((await s.get('customers', 'a')).name, 'A')
      await s.put('customers', [{ id: 'a', name: 'A2', version: 3 }])
      assert.deepEqual((await s.all('customers')).map((r) => r.name).sort(), ['A2', 'B'])
      await s.delete('customers', ['a', 'unknown'])
      assert.deepEqual((await s.all('customers')).map((r) => r.id), ['b'])
      assert.deepEqual(await s.all('orders'), [])
    })

    test('query by customer_id, status and a date range', async () => {
      const s = await make()
      await s.put('visits', [
        { id: 'v1', customer_id: 'c1', status: 'planned', planned_at: '2026-03-01T08:00:00.000000Z' },
        { id: 'v2', customer_id: 'c1', status: 'completed', planned_at: '2026-03-02T08:00:00.000000Z' },
        { id: 'v3', customer_id: 'c2', status: 'planned', planned_at: '2026-03-03T08:00:00.000000Z' },
        { id: 'v4', customer_id: null, status: null, planned_at: null },
      ])
      const ids = (rows) => rows.map((r) => r.id).sort()
      assert.deepEqual(ids(await s.query('visits', 'customer_id', 'c1')), ['v1', 'v2'])
      assert.deepEqual(ids(await s.query('visits', 'status', 'planned')), ['v1', 'v3'])
      assert.deepEqual(ids(await s.query('visits', 'planned_at',
        { between: ['2026-03-02T00:00:00Z', '2026-03-03T23:59:59Z'] })), ['v2', 'v3'])
      await s.put('tasks', [{ id: 't1', due_at: '2026-03-05T00:00:00Z' }])
      assert.deepEqual(ids(await s.query('tasks', 'due_at', '2026-03-05T00:00:00Z')), ['t1'])
    })

    test('search matches the folded search key, with a limit', async () => {
      const s = await make()
      await s.put('customers', [
        { id: 'c1', name: 'Tạp hóa Nguyễn', city: 'Hà Nội' },
        { id: 'c2', name: 'Ёлка', city: 'Москва' },
        { id: 'c3', name: 'Nguyen Mart', city: 'Huế' },
      ])
      assert.deepEqual((await s.search('customers', 'nguyen')).map((r) => r.id).sort(), ['c1', 'c3'])
      assert.deepEqual((await s.search('customers', 'елка')).map((r) => r.id), ['c2'])
      assert.equal((await s.search('customers', 'nguyen', 1)).length, 1)
      assert.deepEqual(await s.search('customers', 'nothing'), [])
      assert.equal((await s.get('customers', 'c1'))._search, undefined)
    })

    test('meta: set, get, remove', async () => {
      const s = await make()
      assert.equal(await s.getMeta('cursor'), undefined)
      await s.setMeta('cursor', 'abc')
      await s.setMeta('session', { a: 1 })
      assert.equal(await s.getMeta('cursor'), 'abc')
      assert.deepEqual(await s.getMeta('session'), { a: 1 })
      await s.setMeta('cursor', undefined)
      assert.equal(await s.getMeta('cursor'), undefined)
    })

    test('the outbox is first in, first out; ack removes by mutation id', async () => {
      const s = await make()
      await s.enqueue([m('m1'), m('m2')])
      await s.enqueue([m('m3')])
      assert.deepEqual((await s.peek(2)).map((x) => x.id), ['m1', 'm2'])
      assert.deepEqual((await s.peek()).map((x) => x.id), ['m1', 'm2', 'm3'])
      assert.equal(await s.outboxSize(), 3)
      await s.ack(['m2'])
      assert.deepEqual((await s.peek()).map((x) => x.id), ['m1', 'm3'])
      await s.ack(['m1', 'm3', 'unknown'])
      assert.deepEqual(await s.peek(), [])
      assert.equal(await s.outboxSize(), 0)
    })

    test('results: add, list, remove', async () => {
      const s = await make()
      await s.addResults([{ id: 'r1', kind: 'rejection', code: 'order_locked' }, { id: 'r2', kind: 'conflict', field: 'phone' }])
      assert.deepEqual((await s.listResults()).map((r) => r.id).sort(), ['r1', 'r2'])
      await s.removeResult('r1')
      assert.deepEqual((await s.listResults()).map((r) => r.id), ['r2'])
    })

    test('a transaction that throws leaves nothing behind, the outbox order included', async () => {
      const s = await make()
      await s.put('customers', [{ id: 'a', name: 'A' }])
      await s.enqueue([m('m1'), m('m2'), m('m3')])
      await s.setMeta('cursor', 'c1')
      await assert.rejects(s.transaction(async () => {
        await s.put('customers', [{ id: 'a', name: 'changed' }, { id: 'b', name: 'B' }])
        await s.delete('customers', ['a'])
        await s.ack(['m1', 'm2'])
        await s.enqueue([m('m4')])
        await s.addResults([{ id: 'r', kind: 'conflict' }])
        await s.setMeta('cursor', 'c2')
        throw new Error('boom')
      }), /boom/)
      assert.deepEqual(await s.all('customers'), [{ id: 'a', name: 'A' }])
      assert.deepEqual((await s.peek()).map((x) => x.id), ['m1', 'm2', 'm3'])
      assert.deepEqual(await s.listResults(), [])
      assert.equal(await s.getMeta('cursor'), 'c1')
    })

    test('a transaction that succeeds keeps everything and returns its value', async () => {
      const s = await make()
      const value = await s.transaction(async () => {
        await s.put('orders', [{ id: 'o1', status: 'draft' }])
        await s.enqueue([m('m1')])
        return 42
      })
      assert.equal(value, 42)
      assert.deepEqual(await s.get('orders', 'o1'), { id: 'o1', status: 'draft' })
      assert.equal(await s.outboxSize(), 1)
    })

    test('clear({keepOutbox}) drops records and cursor only; clear() drops all but the device id', async () => {
      const s = await make()
      await s.put('customers', [{ id: 'a' }])
      await s.put('orders', [{ id: 'o' }])
      await s.enqueue([m('m1')])
      await s.addResults([{ id: 'r', kind: 'conflict' }])
      await s.setMeta('cursor', 'c')
      await s.setMeta('deviceId', 'dev')
      await s.setMeta('session', { t: 1 })
      await s.clear({ keepOutbox: true })
      assert.deepEqual(await s.all('customers'), [])
      assert.deepEqual(await s.all('orders'), [])
      assert.equal(await s.getMeta('cursor'), undefined)
      assert.equal(await s.outboxSize(), 1)
      assert.equal((await s.listResults()).length, 1)
      assert.deepEqual(await s.getMeta('session'), { t: 1 })
      await s.clear()
      assert.equal(await s.outboxSize(), 0)
      assert.deepEqual(await s.listResults(), [])
      assert.equal(await s.getMeta('session'), undefined)
      assert.equal(await s.getMeta('deviceId'), 'dev')
    })

    test('a clear inside a failed transaction is undone', async () => {
      const s = await make()
      await s.put('customers', [{ id: 'a' }])
      await s.enqueue([m('m1')])
      await assert.rejects(s.transaction(async () => {
        await s.clear()
        throw new Error('boom')
      }))
      assert.deepEqual(await s.all('customers'), [{ id: 'a' }])
      assert.equal(await s.outboxSize(), 1)
    })
  })
}
