// The SDK against a live fieldsync on its own copy of the demo data
// (tests/e2e/test_js_sdk.py starts it and sets FIELDSYNC_URL). Each test uses its own demo
// users (manager1: rep1-rep4, manager2: rep5-rep8), so they can run in any order.
import assert from 'node:assert/strict'
import { deflateSync } from 'node:zlib'
import { test } from 'node:test'
import { TABLES } from '@fieldsync/client'
import { RUN, Rest, device, lossyFetch, pushesOf, skip } from './helpers.js'

const ids = (rows) => rows.map((r) => r.id).sort()

test('a first sync holds exactly the rep\'s scope, as the REST API lists it (Dexie)', { skip }, async () => {
  // Small pages, so that the first sync takes several (customers before their children).
  const { client, storage, fetch } = await device('rep1', { adapter: 'indexeddb', pullLimit: 100 })
  const rest = await Rest.login('rep1')
  const { pushed, pulled } = await client.sync()
  assert.equal(pushed, 0)
  assert.ok(pulled > 0)
  const pages = fetch.log.filter((r) => r.path === '/api/v1/sync/pull')
  assert.ok(pages.length > 2, `${pages.length} pages`)
  assert.ok(pages.slice(0, -1).every((r) => r.answer.has_more) && !pages.at(-1).answer.has_more)
  for (const table of TABLES) {
    const remote = await rest.list(table)
    const local = await storage.all(table)
    assert.deepEqual(ids(local), ids(remote), `${table}: the device differs from REST`)
    const versions = new Map(remote.map((r) => [r.id, r.version]))
    for (const record of local) assert.equal(record.version, versions.get(record.id), `${table}/${record.id} version`)
  }
  const customers = await rest.list('customers')
  assert.ok(customers.length > 0)
  const local = await client.get('customers', customers[0].id)
  assert.equal(local.name, customers[0].name)
  // Search and indexes on real data.
  const word = customers[0].name.split(' ')[0]
  assert.ok((await client.search('customers', word.toUpperCase())).some((c) => c.name.includes(word)))
  const [visit] = await storage.all('visits')
  assert.ok((await client.query('visits', { index: 'customer_id', equals: visit.customer_id })).some((v) => v.id === visit.id))
  assert.deepEqual(await client.sync(), { pushed: 0, pulled: 0 })
})

test('offline creates, edits and deletes are pushed once each and land on the server', { skip }, async () => {
  const { client, fetch } = await device('rep3')
  const rest = await Rest.login('rep3')
  await client.sync()
  const me = client.user.id
  const owned = (await client.all('customers')).filter((c) => c.owner_id === me)
  assert.ok(owned.length >= 1, 'rep3 owns no customer')
  const [task] = await client.all('tasks')
  assert.ok(task, 'rep3 has no task')

  const customer = await client.create('customers', { name: `SDK Tạp hóa ${RUN}`, owner_id: me, city: 'Hà Nội' })
  const contact = await client.create('contacts', { customer_id: customer.id, name: `Chị Lan ${RUN}`, phone: '+84 90 000 0000' })
  await client.update('customers', owned[0].id, { notes: `edited by the SDK ${RUN}` })
  await client.remove('tasks', task.id)
  assert.equal(client.status.outboxSize, 4)

  const { pushed } = await client.sync()
  assert.equal(pushed, 4)
  assert.equal(client.status.outboxSize, 0)
  const sent = pushesOf(fetch).flatMap((r) => r.body.mutations.map((m) => m.id))
  assert.equal(sent.length, 4)
  assert.equal(new Set(sent).size, 4)
  const results = pushesOf(fetch).flatMap((r) => r.answer.results)
  assert.deepEqual(results.map((r) => r.status), ['applied', 'applied', 'applied', 'applied'])
  assert.deepEqual(await client.conflicts(), [])

  assert.equal((await rest.find('customers', customer.id)).name, customer.name)
  assert.equal((await rest.find('contacts', contact.id)).name, contact.name)
  assert.equal((await rest.find('customers', owned[0].id)).notes, `edited by the SDK ${RUN}`)
  assert.equal(await rest.find('tasks', task.id), null)
  assert.equal((await client.get('customers', customer.id)).version, 1) // the server's copy
  assert.equal((await client.get('customers', customer.id)).owner_id, me)
})

test('a push whose answer is lost is sent again and applied once', { skip }, async () => {
  const { client, fetch } = await device('rep5', { adapter: 'dexie' })
  const rest = await Rest.login('rep5')
  await client.sync()
  const customer = await client.create('customers', { name: `SDK lost answer ${RUN}`, owner_id: client.user.id })
  await client.create('contacts', { customer_id: customer.id, name: `Anh Minh ${RUN}` })
  fetch.lose('/sync/push')
  await client.sync()
  const [first, second] = pushesOf(fetch)
  assert.ok(first.lost)
  assert.deepEqual(second.body.mutations, first.body.mutations) // the same ids and body
  assert.ok(second.answer.results.every((r) => r.status === 'applied' && r.replayed === true),
    JSON.stringify(second.answer.results))
  assert.deepEqual(await client.conflicts(), [])
  const contacts = await rest.list('contacts', { customer_id: customer.id })
  assert.equal(contacts.length, 1)
  assert.equal((await rest.find('customers', customer.id)).version, 1)
})

test('a revoked device with wipe erases its records, outbox and results', { skip }, async () => {
  const { client, storage } = await device('rep6')
  const manager = await Rest.login('manager2')
  await client.sync()
  await client.create('customers', { name: `SDK wiped ${RUN}`, owner_id: client.user.id })
  const { items } = await manager.ok('GET', '/api/v1/devices')
  const session = items.find((d) => d.device_id === client.deviceId && !d.ended_at)
  assert.ok(session, 'the manager does not see the device')
  await manager.ok('POST', `/api/v1/devices/${session.id}/revoke`, { wipe: true })
  const wiped = []
  client.on('wiped', (e) => wiped.push(e))
  await assert.rejects(client.sync(), (e) => e.code === 'device_revoked')
  assert.equal(wiped.length, 1)
  for (const table of TABLES) assert.deepEqual(await storage.all(table), [], table)
  assert.equal(await storage.outboxSize(), 0)
  assert.equal(await storage.getMeta('cursor'), undefined)
  assert.equal(client.user, null)
})

test('a reset keeps a non-empty outbox and pushes it after', { skip }, async () => {
  const { client, storage, fetch } = await device('rep2')
  await client.sync()
  const owned = (await client.all('customers')).filter((c) => c.owner_id === client.user.id)
  await storage.put('customers', [{ id: '00000000-0000-4000-8000-000000000000', name: 'not on the server' }])
  await client.update('customers', owned[0].id, { notes: `kept through a reset ${RUN}` })
  // An unsigned cursor of an earlier server version is answered with `reset: true`.
  await storage.setMeta('cursor', deflateSync(Buffer.from('{"v": 1}')).toString('base64url'))
  await client._pull() // a pull alone, the outbox not yet pushed
  const pulls = fetch.log.filter((r) => r.path === '/api/v1/sync/pull')
  assert.equal(pulls.at(-1).answer.has_more, false)
  assert.ok(pulls.some((r) => r.answer?.reset === true), 'the server did not reset')
  assert.equal(await storage.get('customers', '00000000-0000-4000-8000-000000000000'), undefined)
  assert.equal(await storage.outboxSize(), 1)
  assert.equal((await client.get('customers', owned[0].id)).notes, `kept through a reset ${RUN}`)
  const rest = await Rest.login('rep2')
  assert.deepEqual(ids(await storage.all('customers')), ids(await rest.list('customers')))
  await client.sync()
  assert.equal((await rest.find('customers', owned[0].id)).notes, `kept through a reset ${RUN}`)
})

test('a merged conflict and a rejection are stored and shown', { skip }, async () => {
  const { client } = await device('rep7')
  const manager = await Rest.login('manager2')
  await client.sync()
  const me = client.user.id
  const customer = (await client.all('customers')).find((c) => c.owner_id === me) || (await client.all('customers'))[0]
  const colleague = (await client.all('users')).find((u) => u.role === 'rep' && u.id !== me)
  assert.ok(colleague, 'rep7 sees no colleague')
  // The device edits first (earlier effective time), the manager later: the server keeps its value.
  await client.update('customers', customer.id, { phone: '+84 90 111 1111' })
  await new Promise((resolve) => setTimeout(resolve, 20))
  await manager.ok('PATCH', `/api/v1/customers/${customer.id}`, { phone: '+84 90 222 2222' })
  // A rep crediting a colleague with a visit: not_your_work.
  const visit = await client.create('visits', { customer_id: customer.id, rep_id: colleague.id })
  // A rep editing a submitted order: order_locked.
  const submitted = (await client.query('orders', { index: 'status', equals: 'submitted' }))
    .find((o) => o.rep_id === me)
  assert.ok(submitted, 'rep7 has no submitted order')
  await client.update('orders', submitted.id, { notes: `too late ${RUN}` })
  await client.sync()
  const results = await client.conflicts()
  const conflict = results.find((r) => r.kind === 'conflict')
  assert.ok(conflict, JSON.stringify(results))
  assert.equal(conflict.field, 'phone')
  assert.equal(conflict.yours, '+84 90 111 1111')
  assert.equal(conflict.server, '+84 90 222 2222')
  assert.equal(conflict.kept, 'server')
  assert.equal((await client.get('customers', customer.id)).phone, '+84 90 222 2222')
  const rejection = results.find((r) => r.kind === 'rejection' && r.mutation.table === 'visits')
  assert.equal(rejection.code, 'not_your_work')
  assert.equal(rejection.mutation.record_id, visit.id)
  assert.equal(await client.get('visits', visit.id), undefined) // a rejected create is dropped
  const locked = results.find((r) => r.kind === 'rejection' && r.mutation.table === 'orders')
  assert.equal(locked.code, 'order_locked')
  assert.equal(locked.mutation.fields.notes, `too late ${RUN}`)
  assert.notEqual((await client.get('orders', submitted.id)).notes, `too late ${RUN}`) // the server's copy
  assert.equal(results.length, 3)
  for (const r of results) await client.discard(r.id)
  assert.deepEqual(await client.conflicts(), [])
})

test('a refresh whose answer is lost is retried with the same token and the session goes on', { skip }, async () => {
  const f = lossyFetch()
  const { client, storage } = await device('rep8', { fetch: f })
  const expire = async () => { // as if the access token were about to run out
    const session = await storage.getMeta('session')
    await client._saveSession({ ...session, expires_at: Date.now() })
  }
  await expire()
  const token = (await storage.getMeta('session')).refresh_token
  f.lose('/auth/refresh')
  await client.sync()
  const refreshes = f.log.filter((r) => r.path === '/api/v1/auth/refresh')
  assert.deepEqual(refreshes.map((r) => r.body.refresh_token), [token, token])
  assert.ok(refreshes[0].lost)
  const successor = (await storage.getMeta('session')).refresh_token
  assert.notEqual(successor, token)
  // The successor works: the session was not closed as a reuse.
  await expire()
  await client.sync()
  assert.notEqual((await storage.getMeta('session')).refresh_token, successor)
})

test('a large push goes gzip-compressed and is applied once even when sent again; pulls come compressed', { skip }, async () => {
  const { client, fetch } = await device('rep4')
  const rest = await Rest.login('rep4')
  await client.sync()
  const pages = fetch.log.filter((r) => r.path === '/api/v1/sync/pull')
  assert.ok(pages.length && pages.every((r) => ['zstd', 'br', 'gzip'].includes(r.answerEncoding)),
    JSON.stringify(pages.map((r) => r.answerEncoding)))
  const created = []
  for (let i = 0; i < 20; i++) {
    created.push(await client.create('customers', {
      name: `SDK nén ${RUN} ${i}`, owner_id: client.user.id,
      notes: 'Giao hàng buổi sáng, gọi trước 30 phút. '.repeat(3),
    }))
  }
  fetch.lose('/sync/push')
  const { pushed } = await client.sync()
  assert.equal(pushed, 20)
  const [first, second] = pushesOf(fetch)
  assert.ok(first.lost)
  assert.equal(first.encoding, 'gzip')
  assert.equal(second.encoding, 'gzip')
  assert.deepEqual(second.body.mutations, first.body.mutations)
  assert.ok(second.answer.results.every((r) => r.status === 'applied' && r.replayed === true),
    JSON.stringify(second.answer.results))
  for (const customer of created) {
    const stored = await rest.find('customers', customer.id)
    assert.equal(stored.name, customer.name)
    assert.equal(stored.version, 1)
  }
})
