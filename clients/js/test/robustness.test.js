// Crashes and concurrency: a pull killed inside its page, writes made while a sync runs,
// and an app restarted on the same IndexedDB database.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb'
import { DexieStorage, MemoryStorage, SyncClient } from '@fieldsync/client'
import { FakeServer } from './support/fake-server.js'

let n = 0
const adapters = {
  memory: () => new MemoryStorage(),
  dexie: () => new DexieStorage(`robust-${++n}`, { indexedDB: new IDBFactory(), IDBKeyRange }),
}

const make = (server, storage, options = {}) => new SyncClient({
  baseUrl: 'http://fieldsync.test', storage, fetch: server.fetch,
  sleep: async () => {}, retry: { baseMs: 1, maxMs: 1, attempts: 3 }, ...options,
})

for (const [name, adapter] of Object.entries(adapters)) {
  describe(`robustness on ${name}`, () => {
    test('a pull killed inside its page applies nothing of it; the next sync does', async () => {
      const server = new FakeServer()
      const storage = adapter()
      const client = make(server, storage)
      await client.signIn('a@b.c', 'pw')
      await client.sync()
      const cursor = await storage.getMeta('cursor')
      server.serverPut('customers', { id: 'c1', name: 'A' })
      server.serverPut('contacts', { id: 'k1', name: 'K', customer_id: 'c1' })
      const setMeta = storage.setMeta.bind(storage)
      storage.setMeta = async (key, value) => {
        if (key === 'cursor') throw new Error('killed')
        return setMeta(key, value)
      }
      await assert.rejects(client.sync(), /killed/)
      assert.equal(await storage.get('customers', 'c1'), undefined)
      assert.equal(await storage.getMeta('cursor'), cursor)
      storage.setMeta = setMeta
      await client.sync()
      assert.equal((await storage.get('contacts', 'k1')).name, 'K')
    })

    test('writes made while a sync runs are kept and pushed by the next one', async () => {
      const server = new FakeServer()
      const storage = adapter()
      let release
      const gate = new Promise((resolve) => { release = resolve })
      const slowFetch = async (url, init) => {
        if (url.includes('/sync/push')) await gate
        return server.fetch(url, init)
      }
      const client = make(server, storage, { fetch: slowFetch })
      await client.signIn('a@b.c', 'pw')
      const first = await client.create('customers', { name: 'first' })
      const running = client.sync()
      await new Promise((resolve) => setTimeout(resolve, 10))
      const during = await client.create('customers', { name: 'during' })
      await client.update('customers', first.id, { name: 'first, edited during the push' })
      release()
      // The run goes on until the outbox is empty: the writes made meanwhile went too.
      // Each last batch brings a page (ADR 0028): the full sync (1), then what the second push changed (2).
      assert.deepEqual(await running, { pushed: 3, pulled: 3 })
      const sent = server.requests.filter((r) => r.path === '/api/v1/sync/push')
        .map((r) => r.body.mutations.map((m) => `${m.op} ${m.fields.name}`))
      assert.deepEqual(sent, [['create first'], ['create during', 'update first, edited during the push']])
      assert.equal((await storage.get('customers', first.id)).name, 'first, edited during the push')
      assert.equal((await storage.get('customers', first.id)).version, 2)
      assert.equal(server.tables.get('customers').get(during.id).name, 'during')
      assert.equal(await storage.outboxSize(), 0)
    })

    test('a page a push brings keeps the edits queued during that push on top', async () => {
      const server = new FakeServer()
      const storage = adapter()
      const gates = []
      const gatedFetch = async (url, init) => {
        if (url.includes('/sync/push')) await new Promise((resolve) => gates.push(resolve))
        return server.fetch(url, init)
      }
      const until = async (ok) => { while (!ok()) await new Promise((resolve) => setTimeout(resolve, 1)) }
      const client = make(server, storage, { fetch: gatedFetch })
      await client.signIn('a@b.c', 'pw')
      server.serverPut('customers', { id: 'c1', name: 'A' })
      await client.sync() // nothing queued: a pull, no push
      await client.create('customers', { name: 'x' })
      const running = client.sync()
      await until(() => gates.length === 1)
      await client.update('customers', 'c1', { name: 'mine' })
      server.serverPut('customers', { id: 'c1', name: 'B' })
      gates[0]()
      // The first push's page has c1 as B; the queued edit is laid over it until it is pushed.
      await until(() => gates.length === 2)
      assert.equal((await storage.get('customers', 'c1')).name, 'mine')
      gates[1]()
      await running
    })
  })
}

test('an app restarted on the same IndexedDB keeps its device, session, outbox and cursor', async () => {
  const server = new FakeServer()
  const indexedDB = new IDBFactory()
  const open = () => new DexieStorage('restart', { indexedDB, IDBKeyRange })
  const storage = open()
  const before = make(server, storage)
  await before.signIn('a@b.c', 'pw')
  server.serverPut('customers', { id: 'c1', name: 'A' })
  await before.sync()
  await before.create('customers', { name: 'queued before the restart' })
  storage.close()

  const after = make(server, open())
  await after.ready()
  assert.equal(after.deviceId, before.deviceId)
  assert.equal(after.user.id, 'u-rep')
  assert.equal(after.status.outboxSize, 1)
  assert.ok(after.status.lastSyncedAt)
  assert.equal((await after.get('customers', 'c1')).name, 'A')
  assert.deepEqual(await after.sync(), { pushed: 1, pulled: 1 })
})
