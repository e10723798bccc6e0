// SyncClient against the in-process FakeServer (support/fake-server.js), on MemoryStorage
// and on DexieStorage (fake-indexeddb): outbox order and atomicity, a push killed between
// its answer and the ack, retries, refresh, wipe, reset, results, events.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { DexieStorage, FieldsyncError, IndexedDBStorage, MemoryStorage, SyncClient } from '@fieldsync/client'
import { FakeServer } from './support/fake-server.js'

let n = 0
const adapters = {
  memory: () => new MemoryStorage(),
  dexie: () => new DexieStorage(`client-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }),
  indexeddb: () => new IndexedDBStorage(`client-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }),
}

async function setUp(make, options = {}) {
  const server = new FakeServer()
  const storage = make()
  const sleeps = []
  const client = new SyncClient({
    baseUrl: 'http://fieldsync.test', storage, fetch: server.fetch, deviceName: 'test',
    sleep: async (ms) => { sleeps.push(ms) }, retry: { baseMs: 1, maxMs: 5, attempts: 4 }, ...options,
  })
  await client.signIn('rep@example.com', 'pw')
  return { server, storage, client, sleeps }
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/v1/sync/push')

for (const [name, make] of Object.entries(adapters)) {
  describe(`SyncClient on ${name}`, () => {
    test('a device id is made once and kept in storage', async () => {
      const { server, storage, client } = await setUp(make)
      assert.match(client.deviceId, /^[0-9a-f-]{36}$/)
      assert.equal(server.deviceId, client.deviceId)
      const again = new SyncClient({ baseUrl: 'http://x', storage, fetch: server.fetch })
      await again.ready()
      assert.equal(again.deviceId, client.deviceId)
      assert.equal(again.user.id, 'u-rep') // the session is kept too
    })

    test('local writes apply at once and queue mutations in order', async () => {
      const { client } = await setUp(make)
      const sizes = []
      client.on('outbox', (size) => sizes.push(size))
      const c = await client.create('customers', { name: 'Tạp hóa Hồng', phone: '1' })
      assert.deepEqual(await client.get('customers', c.id), c)
      await client.update('customers', c.id, { phone: '2' })
      await client.remove('customers', c.id)
      assert.equal(await client.get('customers', c.id), undefined)
      const outbox = await client.outbox()
      assert.deepEqual(outbox.map((m) => m.op), ['create', 'update', 'delete'])
      assert.equal(outbox[1].base_version, 0)
      assert.deepEqual(outbox[1].fields, { phone: '2' })
      assert.ok(outbox.every((m) => m.record_id === c.id && m.changed_at))
      assert.deepEqual(sizes, [1, 2, 3])
      assert.equal(client.status.outboxSize, 3)
      await assert.rejects(client.update('customers', 'nope', { a: 1 }), (e) => e.code === 'not_found')
    })

    test('sync pushes in batches, in order, then pulls; a second sync pushes nothing', async () => {
      const { server, client } = await setUp(make, { batchSize: 2 })
      server.serverPut('customers', { id: 'c0', name: 'Server customer' })
      const made = []
      for (let i = 0; i < 5; i++) made.push(await client.create('contacts', { name: `N${i}`, customer_id: 'c0' }))
      const events = []
      client.on('sync:start', () => events.push('start'))
      client.on('sync:done', (r) => events.push(r))
      const result = await client.sync()
      assert.deepEqual(result, { pushed: 5, pulled: 6 })
      assert.deepEqual(events, ['start', { pushed: 5, pulled: 6 }])
      assert.deepEqual(pushes(server).map((r) => r.body.mutations.length), [2, 2, 1])
      assert.deepEqual(pushes(server).flatMap((r) => r.body.mutations.map((m) => m.fields.name)),
        ['N0', 'N1', 'N2', 'N3', 'N4'])
      assert.equal((await client.get('contacts', made[0].id)).version, 1)
      assert.equal(client.status.outboxSize, 0)
      assert.ok(client.status.lastSyncedAt)
      assert.deepEqual(await client.sync(), { pushed: 0, pulled: 0 })
    })

    test('a push killed between the answer and the ack loses nothing and duplicates nothing', async () => {
      const { server, storage, client } = await setUp(make)
      const ids = []
      for (let i = 0; i < 3; i++) ids.push((await client.create('customers', { name: `K${i}` })).id)
      const ack = storage.ack.bind(storage)
      storage.ack = async () => { throw new Error('killed') }
      await assert.rejects(client.sync(), /killed/)
      assert.equal(await storage.outboxSize(), 3) // the answer was not stored: still queued
      assert.equal((await storage.get('customers', ids[0])).version, undefined)
      storage.ack = ack
      await client.sync()
      assert.equal(await storage.outboxSize(), 0)
      const sent = pushes(server).map((r) => r.body.mutations.map((m) => m.id))
      assert.deepEqual(sent[0], sent[1]) // the same mutation ids went again
      assert.ok([...server.applied.values()].every((count) => count === 1))
      assert.equal(server.tables.get('customers').size, 3)
      assert.equal((await storage.get('customers', ids[0])).version, 1)
    })

    test('a push whose answer is lost is sent again with the same ids, applied once', async () => {
      const { server, client, storage } = await setUp(make)
      await client.create('customers', { name: 'Lost' })
      server.faults.push({ path: '/api/v1/sync/push', kind: 'drop' })
      await client.sync()
      const [first, second] = pushes(server)
      assert.deepEqual(first.body.mutations, second.body.mutations)
      assert.equal(server.applied.size, 1)
      assert.equal(await storage.outboxSize(), 0)
    })

    test('503 waits at least Retry-After, then the same body goes again', async () => {
      const { server, client, sleeps } = await setUp(make)
      await client.create('customers', { name: 'Busy' })
      server.faults.push({ path: '/api/v1/sync/push', kind: '503', retryAfter: 2 })
      await client.sync()
      assert.ok(sleeps.some((ms) => ms >= 2000), `slept ${sleeps}`)
      assert.equal(pushes(server).length, 2)
    })

    test('no answer after every attempt: a network error, the outbox kept', async () => {
      const { server, client, storage } = await setUp(make)
      await client.create('customers', { name: 'Offline' })
      for (let i = 0; i < 4; i++) server.faults.push({ path: '/api/v1/sync/push', kind: 'drop-before' })
      const errors = []
      client.on('sync:error', (e) => errors.push(e))
      await assert.rejects(client.sync(), (e) => e instanceof FieldsyncError && e.code === 'network')
      assert.equal(errors.length, 1)
      assert.equal(await storage.outboxSize(), 1)
      assert.equal(client.status.syncing, false)
    })

    test('token_expired refreshes with rotation and repeats the request', async () => {
      const { server, client } = await setUp(make)
      const before = (await client.storage.getMeta('session')).refresh_token
      server.faults.push({ path: '/api/v1/sync/pull', kind: 'expire' })
      await client.sync()
      const after = (await client.storage.getMeta('session')).refresh_token
      assert.notEqual(after, before)
      assert.equal(server.requests.filter((r) => r.path === '/api/v1/auth/refresh').length, 1)
    })

    test('request() calls the REST API signed in, refreshing an expired token first', async () => {
      const { server, client } = await setUp(make)
      server.faults.push({ path: '/api/v1/route-plans/p1/reoptimize', kind: 'expire' })
      const res = await client.request('POST', '/api/v1/route-plans/p1/reoptimize', { body: { lat: 1, lon: 2 } })
      assert.equal(res.status, 404) // the fake server has no route plans: answered, not thrown
      const calls = server.requests.filter((r) => r.path === '/api/v1/route-plans/p1/reoptimize')
      assert.equal(calls.length, 2)
      assert.deepEqual(calls[1].body, { lat: 1, lon: 2 })
      assert.equal(server.requests.filter((r) => r.path === '/api/v1/auth/refresh').length, 1)
    })

    test('a refresh whose answer is lost is retried with the same refresh token', async () => {
      const { server, client } = await setUp(make)
      const token = (await client.storage.getMeta('session')).refresh_token
      server.faults.push({ path: '/api/v1/sync/pull', kind: 'expire' })
      server.faults.push({ path: '/api/v1/auth/refresh', kind: 'drop' })
      await client.sync()
      const refreshes = server.requests.filter((r) => r.path === '/api/v1/auth/refresh')
      assert.deepEqual(refreshes.map((r) => r.body.refresh_token), [token, token])
      assert.equal((await client.storage.getMeta('session')).refresh_token, server.refresh.get(token).successor)
    })

    test('an access token about to expire is refreshed before the request', async () => {
      let now = Date.now()
      const { server, client } = await setUp(make, { now: () => new Date(now) })
      now += 899_000
      await client.sync()
      assert.equal(server.requests.filter((r) => r.path === '/api/v1/auth/refresh').length, 1)
      assert.equal(server.requests.filter((r) => r.path === '/api/v1/sync/pull').length, 1)
    })

    test('device_revoked with wipe erases records, outbox and results, and says so', async () => {
      const { server, client, storage } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await client.sync()
      await client.create('customers', { name: 'queued' })
      await storage.addResults([{ id: 'r', kind: 'conflict' }])
      server.revoked = { wipe: true }
      const wiped = []
      client.on('wiped', (e) => wiped.push(e))
      await assert.rejects(client.sync(), (e) => e.code === 'device_revoked')
      assert.equal(wiped.length, 1)
      assert.deepEqual(await storage.all('customers'), [])
      assert.equal(await storage.outboxSize(), 0)
      assert.deepEqual(await storage.listResults(), [])
      assert.equal(client.user, null)
      assert.equal(client.status.outboxSize, 0)
      assert.ok(await storage.getMeta('deviceId'))
    })

    test('device_revoked without wipe keeps the data', async () => {
      const { server, client, storage } = await setUp(make)
      await client.create('customers', { name: 'queued' })
      server.revoked = { wipe: false }
      await assert.rejects(client.sync(), (e) => e.code === 'device_revoked')
      assert.equal(await storage.outboxSize(), 1)
    })

    test('426 throws update_required and keeps the outbox', async () => {
      const { client, storage } = await setUp(make, { schemaVersion: 2 })
      await client.create('customers', { name: 'queued' })
      await assert.rejects(client.sync(), (e) => e instanceof FieldsyncError && e.code === 'update_required' && e.status === 426)
      assert.equal(await storage.outboxSize(), 1)
    })

    test('reset drops the records and the cursor but keeps the outbox', async () => {
      const { server, client, storage } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await client.sync()
      await storage.put('customers', [{ id: 'stale', name: 'gone on the server' }])
      server.resetNext = true
      // Queue an edit, then sync with a push that fails: the pull must not drop it.
      await client.update('customers', 'c1', { name: 'mine' })
      server.faults.push(...Array.from({ length: 4 }, () => ({ path: '/api/v1/sync/push', kind: 'drop-before' })))
      await assert.rejects(client.sync())
      // Pull alone (as after a failed push) to see the reset keep the outbox.
      await client._pull()
      assert.equal(await storage.get('customers', 'stale'), undefined)
      assert.equal(await storage.outboxSize(), 1)
      assert.equal((await storage.get('customers', 'c1')).name, 'mine') // queued edit laid over
      await client.sync()
      assert.equal(server.tables.get('customers').get('c1').name, 'mine')
    })

    test('an invalid cursor starts a full sync from nothing', async () => {
      const { server, client, storage } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await storage.put('customers', [{ id: 'old' }])
      await storage.setMeta('cursor', 'bad')
      await client.sync()
      assert.deepEqual((await storage.all('customers')).map((r) => r.id), ['c1'])
    })

    test('a sync with a queued edit is one request: the push brings the pull page', async () => {
      const { server, client, storage } = await setUp(make)
      await client.sync()
      const cursor = await storage.getMeta('cursor')
      server.serverPut('customers', { id: 'c1', name: 'from the office' })
      const mine = await client.create('customers', { name: 'mine' })
      const before = server.requests.length
      assert.deepEqual(await client.sync(), { pushed: 1, pulled: 2 })
      const sent = server.requests.slice(before).filter((r) => r.path.startsWith('/api/v1/sync/'))
      assert.deepEqual(sent.map((r) => r.path), ['/api/v1/sync/push'])
      assert.equal(sent[0].body.pull.cursor, cursor)
      assert.equal((await storage.get('customers', 'c1')).name, 'from the office')
      assert.equal((await storage.get('customers', mine.id)).name, 'mine')
      assert.equal(await storage.getMeta('cursor'), String(server.seq))
      assert.equal(await storage.outboxSize(), 0)
    })

    test('a push that brings a page with has_more pulls on from its cursor', async () => {
      const { server, client, storage } = await setUp(make, { pullLimit: 2 })
      await client.sync()
      for (let i = 0; i < 5; i++) server.serverPut('tasks', { id: `t${i}`, title: `Task ${i}`, customer_id: 'c' })
      await client.create('customers', { name: 'mine' })
      const { pulled } = await client.sync()
      assert.equal(pulled, 6)
      assert.equal((await storage.all('tasks')).length, 5)
      assert.equal(await storage.getMeta('cursor'), String(server.seq))
    })

    test('a push whose pull cursor is refused is sent again with a full sync, once', async () => {
      const { server, client, storage } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await storage.put('customers', [{ id: 'old' }])
      await storage.setMeta('cursor', 'bad')
      const mine = await client.create('customers', { name: 'mine' })
      await client.sync()
      const sent = pushes(server)
      assert.deepEqual(sent.map((r) => r.body.pull.cursor), ['bad', undefined])
      assert.equal(server.applied.get(sent[0].body.mutations[0].id), 1)
      assert.deepEqual((await storage.all('customers')).map((r) => r.id).sort(), ['c1', mine.id].sort())
    })

    test('pull pages until has_more is false, with deletes, each page with its cursor', async () => {
      const { server, client, storage } = await setUp(make, { pullLimit: 2 })
      await client.sync()
      for (let i = 0; i < 5; i++) server.serverPut('tasks', { id: `t${i}`, title: `Task ${i}`, customer_id: 'c' })
      server.serverDelete('tasks', 't0')
      const { pulled } = await client.sync()
      assert.equal(pulled, 6)
      assert.deepEqual((await storage.all('tasks')).map((r) => r.id).sort(), ['t1', 't2', 't3', 't4'])
      assert.equal(await storage.getMeta('cursor'), String(server.seq))
      assert.equal(server.requests.filter((r) => r.path === '/api/v1/sync/pull').length, 1 + 3)
    })

    test('a queued delete is not undone by a pull', async () => {
      const { server, client, storage } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await client.sync()
      await client.remove('customers', 'c1')
      server.serverPut('customers', { id: 'c1', name: 'B' })
      await client._pull()
      assert.equal(await storage.get('customers', 'c1'), undefined)
    })

    test('merged conflicts and rejections are stored; retry re-queues, discard forgets', async () => {
      const { server, client } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'A', phone: '1' })
      server.serverPut('orders', { id: 'o1', status: 'submitted', customer_id: 'c1' })
      await client.sync()
      server.serverPut('customers', { id: 'c1', phone: '2' }) // concurrent on the server
      await client.update('customers', 'c1', { phone: 'mine', name: 'B' })
      await client.update('orders', 'o1', { notes: 'late edit' })
      const visit = await client.create('visits', { customer_id: 'c1', rep_id: 'someone-else' })
      await client.sync()
      const results = await client.conflicts()
      const conflict = results.find((r) => r.kind === 'conflict')
      assert.deepEqual({ ...conflict, id: undefined, mutation_id: undefined }, {
        id: undefined, kind: 'conflict', table: 'customers', record_id: 'c1', field: 'phone',
        yours: 'mine', server: '2', kept: 'server', reason: 'changed on the server after your edit', mutation_id: undefined,
      })
      const customer = await client.get('customers', 'c1')
      assert.equal(customer.phone, '2')
      assert.equal(customer.name, 'B')
      const codes = results.filter((r) => r.kind === 'rejection').map((r) => r.code).sort()
      assert.deepEqual(codes, ['not_your_work', 'order_locked'])
      assert.equal(await client.get('visits', visit.id), undefined) // a rejected create is dropped
      assert.equal((await client.get('orders', 'o1')).notes, undefined) // the server's copy
      const locked = results.find((r) => r.code === 'not_your_work')
      const again = await client.retry(locked.mutation.id)
      assert.notEqual(again.id, locked.mutation.id)
      assert.equal((await client.outbox()).length, 1)
      assert.ok(await client.get('visits', visit.id))
      await client.discard(conflict.id)
      assert.deepEqual((await client.conflicts()).map((r) => r.code).sort(), ['not_your_work', 'order_locked'].filter((c) => c !== 'not_your_work'))
    })

    test('concurrent sync() calls share one run', async () => {
      const { server, client } = await setUp(make)
      await client.create('customers', { name: 'Once' })
      const [a, b] = await Promise.all([client.sync(), client.sync()])
      assert.deepEqual(a, b)
      assert.equal(pushes(server).length, 1)
    })

    test('search and query read the local copy', async () => {
      const { server, client } = await setUp(make)
      server.serverPut('customers', { id: 'c1', name: 'Tạp hóa Nguyễn Văn', city: 'Hà Nội' })
      server.serverPut('visits', { id: 'v1', customer_id: 'c1', status: 'planned', planned_at: '2026-03-02T08:00:00.000000Z' })
      await client.sync()
      assert.deepEqual((await client.search('customers', 'NGUYEN van')).map((r) => r.id), ['c1'])
      assert.deepEqual((await client.search('customers', 'ha noi', { limit: 5 })).map((r) => r.id), ['c1'])
      assert.deepEqual((await client.query('visits', { index: 'customer_id', equals: 'c1' })).map((r) => r.id), ['v1'])
      assert.deepEqual((await client.query('visits', { index: 'planned_at', between: ['2026-03-02', '2026-03-03'] })).map((r) => r.id), ['v1'])
    })

    test('signing in as another user erases the previous user\'s data', async () => {
      const { server, client, storage } = await setUp(make)
      await client.create('customers', { name: 'rep data' })
      server.user = { id: 'u-other', name: 'Other', role: 'rep' }
      await client.signIn('other@example.com', 'pw')
      assert.equal(await storage.outboxSize(), 0)
      assert.deepEqual(await storage.all('customers'), [])
      await assert.rejects(client.signIn('other@example.com', 'wrong'), (e) => e.code === 'invalid_credentials')
      await client.signOut()
      assert.equal(client.user, null)
      await assert.rejects(client.sync(), (e) => e.code === 'not_signed_in')
    })
  })
}
