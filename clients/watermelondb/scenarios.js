// Real-client scenarios: WatermelonDB 0.28 (LokiJS, in memory) against a live fieldsync
// seeded with the demo data (server/demo.py), each checked against the server's REST API as
// the rep and as a manager. A mismatch prints `FAIL: <scenario>: <what differs>` and the
// exit status is 1.
//
//   FIELDSYNC_URL=http://127.0.0.1:8000 node scenarios.js              # every scenario
//   FIELDSYNC_URL=http://127.0.0.1:8000 node scenarios.js two-devices  # some of them
//   node scenarios.js --list
//
// Environment: FIELDSYNC_URL, FIELDSYNC_PASSWORD (demo-pass-2026), FIELDSYNC_DOMAIN
// (demo.fieldsync.dev), FIELDSYNC_VERBOSE=1 (WatermelonDB's own logs). Each scenario works
// with its own demo users and customers (demo teams: manager1 manages rep1-rep4, manager2
// rep5-rep8; rep1+rep2, rep3+rep4, rep5+rep6, rep7+rep8 share a territory), so they can run
// alone, in any order, and again on the same server.
import { appSchema, tableSchema } from '@nozbe/watermelondb'
import MigrationsPkg from '@nozbe/watermelondb/Schema/migrations/index.js'
import {
  Device, Failure, PushFault, Q, Session, TABLES,
  check, checkEqual, checkMirrors, fail, msLike, pulled, short,
} from './harness.js'
import { schema } from './schema.js'

const { schemaMigrations, createTable, addColumns } = MigrationsPkg
/** Makes this run's values unique, so a scenario can run again on the same server. */
const RUN = Date.now().toString(36)

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** The device's customers owned by `userId`, in a stable order. */
async function ownedBy(device, userId, minimum) {
  const customers = (await device.all('customers', Q.where('owner_id', userId))).sort(byId)
  check(customers.length >= minimum,
    `${device.name} has ${customers.length} customers of its own, the scenario needs ${minimum}`)
  return customers
}

/** The first of `customers` with a contact on the device, and that contact (runs delete one). */
async function withContact(device, customers) {
  for (const customer of customers) {
    const [contact] = await device.all('contacts', Q.where('customer_id', customer.id))
    if (contact) return [customer, contact]
  }
  return fail(`${device.name}: none of ${customers.length} customers has a contact left`)
}

function checkNothingRejected(entry, what) {
  const response = entry.push?.response
  check(response, `${what}: nothing was pushed`)
  checkEqual(response.experimentalRejectedIds, {}, `${what}: experimentalRejectedIds`)
  checkEqual(response.rejected, [], `${what}: rejected`)
}

function checkPullEmpty(entry, what) {
  for (const table of TABLES) {
    const got = pulled(entry.pull, table)
    check(!got.created.size && !got.updated.size && !got.deleted.size,
      `${what}: expected no changes, got ${table}: ${short(entry.pull.changes[table])}`)
  }
}

// -- a. first sync --------------------------------------------------------------------------

async function firstSync() {
  const device = await Device.signIn('rep1')
  const rep = device.session
  const entry = await device.syncClean('first sync')
  check(Number.isSafeInteger(entry.pull.timestamp), `timestamp ${entry.pull.timestamp}`)
  check(!entry.push, `the first sync pushed ${short(entry.push)}`)
  check(!entry.pull.experimentalStrategy, 'a first sync is not a replacement')
  for (const table of TABLES) {
    const got = pulled(entry.pull, table)
    check(!got.updated.size && !got.deleted.size,
      `first sync: ${table} has updated/deleted records, expected everything in created`)
  }
  const counts = await checkMirrors(device, rep, { what: 'after the first sync' })
  check(counts.customers > 0 && counts.contacts > 0 && counts.visits > 0,
    `first sync brought too little: ${short(counts)}`)

  // Values, not just ids: every customer as the REST API has it.
  for (const customer of await rep.list('customers')) {
    const raw = (await device.find('customers', customer.id))._raw
    const want = {
      name: customer.name, version: customer.version, tier: customer.tier,
      owner_id: customer.owner_id, territory_id: customer.territory_id,
      lat: customer.lat, lon: customer.lon, updated_at: msLike(raw.updated_at, customer.updated_at),
      last_visit_at: msLike(raw.last_visit_at, customer.last_visit_at),
      opening_hours: customer.opening_hours,
    }
    const got = { ...Object.fromEntries(Object.keys(want).map((k) => [k, raw[k]])),
      opening_hours: raw.opening_hours == null ? null : JSON.parse(raw.opening_hours) }
    checkEqual(got, want, `customer ${customer.id} on the device`)
  }
  // Nothing changed since: the next sync brings nothing and pushes nothing.
  const again = await device.syncClean('second sync')
  check(!again.push, `nothing to push, yet pushed ${short(again.push)}`)
  checkPullEmpty(again, 'a sync right after the first')
  return counts
}

// -- b. offline create / update / delete ----------------------------------------------------

async function offlineEdits() {
  const device = await Device.signIn('rep3')
  const rep = device.session
  const manager = await Session.login('manager1')
  await device.syncClean('first sync')
  const [c1, c2, ...others] = await ownedBy(device, rep.id, 3)
  const [c3, gone] = await withContact(device, others)
  const [territory] = await device.all('territories')
  const [product] = await device.all('products', Q.where('active', true))
  const [goneTask] = (await device.all('tasks')).filter((t) => t._raw.customer_id !== c1.id)
  check(goneTask, 'rep3 has no task to delete')

  // Offline: nothing reaches the server until the sync.
  const customer = await device.create('customers', {
    name: `Tạp hóa Dưa Hấu ${RUN}`, territory_id: territory.id, owner_id: rep.id,
    status: 'prospect', tier: 'C', visit_every_days: 30, visit_minutes: 15,
    lat: 10.82, lon: 106.66, country: 'VN',
    opening_hours: JSON.stringify({ mon: [['08:00', '17:00']] }),
  })
  const contact = await device.create('contacts', {
    customer_id: customer.id, name: `Chị Lan ${RUN}`, phone: '+84 28 0000 0000',
  })
  const contact1 = await device.create('contacts', {
    customer_id: c1.id, name: `Anh Minh ${RUN}`, role: 'Quản lý',
  })
  const task = await device.create('tasks', {
    customer_id: c1.id, assignee_id: rep.id, title: `Giao hàng ${RUN}`,
    due_at: Date.now() + 86_400_000, done: false,
  })
  const order = await device.create('orders', {
    customer_id: c1.id, rep_id: rep.id, status: 'draft', currency: 'VND',
    lines: JSON.stringify([{ product_id: product.id, quantity: '3', discount_pct: '0' }]),
  })
  const c2Before = c2._raw.version
  await device.update(c2, { notes: `ghi chú ${RUN}`, phone: '+84 28 1111 2222' })
  await device.remove(gone)
  await device.remove(goneTask)
  check(!(await rep.find('contacts', contact1.id)), 'a local create reached the server unsynced')

  const entry = await device.syncClean('push of the offline changes')
  checkNothingRejected(entry, 'push')
  const sent = entry.push.changes
  check(sent.customers.created.some((r) => r.id === customer.id) &&
    sent.customers.updated.some((r) => r.id === c2.id) &&
    sent.contacts.deleted.includes(gone.id),
  `the push did not carry the offline changes: ${short(sent.customers)}`)

  // The server has them, as the rep and as the manager see it.
  for (const who of [rep, manager]) {
    const serverCustomer = await who.find('customers', customer.id)
    check(serverCustomer, `${who.who} cannot see the customer created offline ${customer.id}`)
    checkEqual([serverCustomer.name, serverCustomer.owner_id, serverCustomer.territory_id,
      serverCustomer.status, serverCustomer.opening_hours],
    [customer._raw.name, rep.id, territory.id, 'prospect', { mon: [['08:00', '17:00']] }],
    `${who.who}: the customer created offline`)
    const updated = await who.find('customers', c2.id)
    checkEqual([updated.notes, updated.phone, updated.version],
      [`ghi chú ${RUN}`, '+84 28 1111 2222', c2Before + 1], `${who.who}: the customer edited offline`)
    check(!(await who.find('contacts', gone.id)),
      `${who.who}: the contact deleted offline ${gone.id} is still there`)
  }
  checkEqual((await rep.find('contacts', contact.id))?.customer_id, customer.id,
    'the contact of the new customer')
  checkEqual((await rep.find('contacts', contact1.id))?.name, `Anh Minh ${RUN}`,
    'the contact created offline')
  const serverTask = await rep.find('tasks', task.id)
  checkEqual([serverTask?.title, serverTask?.done, msLike(task._raw.due_at, serverTask?.due_at)],
    [`Giao hàng ${RUN}`, false, task._raw.due_at], 'the task created offline')
  check(!(await rep.find('tasks', goneTask.id)), 'the task deleted offline')
  const tombstones = await rep.list('contacts', { customer_id: c3.id, include_deleted: 'true' })
  check(tombstones.find((c) => c.id === gone.id)?.deleted_at,
    `the deleted contact has no deleted_at: ${short(tombstones.find((c) => c.id === gone.id))}`)
  const serverOrder = await rep.find('orders', order.id)
  const price = Number(product._raw.unit_price)
  checkEqual(serverOrder?.total, (3 * price).toFixed(2), 'the total the server derived')

  // The next pull does not echo the device's own writes (orders come back, as updated, for
  // their server-derived total).
  const next = await device.syncClean('the sync after the push')
  const mine = {
    customers: [customer.id, c2.id], contacts: [contact.id, contact1.id], tasks: [task.id],
    orders: [order.id],
  }
  for (const [table, ids] of Object.entries(mine)) {
    const got = pulled(next.pull, table)
    for (const id of ids) {
      check(!got.created.has(id), `${table} ${id} of the device came back as created`)
      if (table !== 'orders') {
        check(!got.updated.has(id), `${table} ${id} of the device came back as updated`)
      }
    }
  }
  check(pulled(next.pull, 'orders').updated.has(order.id),
    'the order did not come back with its server-derived total')
  const local = await device.find('orders', order.id)
  checkEqual([local?._raw.total, local?._raw._status], [serverOrder.total, 'synced'],
    'the order on the device after the pull')
  check(!(await device.unsynced()), 'the device still has unsynced changes')
  await checkMirrors(device, rep, { what: 'after the offline changes' })
}

// -- c. server-side changes -----------------------------------------------------------------

async function serverChanges() {
  const device = await Device.signIn('rep5')
  const rep = device.session
  const manager = await Session.login('manager2')
  await device.syncClean('first sync')
  const [c1, ...others] = await ownedBy(device, rep.id, 2)
  const [c2, gone] = await withContact(device, others)

  const tier = c1._raw.tier === 'A' ? 'B' : 'A'
  const patched = await manager.ok('PATCH', `/api/v1/customers/${c1.id}`,
    { notes: `từ quản lý ${RUN}`, tier, visit_every_days: 7 })
  const due = new Date(Date.now() + 2 * 86_400_000).toISOString()
  const task = await manager.ok('POST', '/api/v1/tasks',
    { customer_id: c2.id, assignee_id: rep.id, title: `Kiểm tra tồn kho ${RUN}`, due_at: due })
  const contact = await manager.ok('POST', '/api/v1/contacts',
    { customer_id: c1.id, name: `Ông Tư ${RUN}`, phone: '+84 90 000 0000' })
  await manager.ok('DELETE', `/api/v1/contacts/${gone.id}`)

  const entry = await device.syncClean('pull of the manager\'s changes')
  check(!entry.push, `nothing to push, yet pushed ${short(entry.push)}`)
  check(pulled(entry.pull, 'customers').updated.has(c1.id),
    `the patched customer is not in customers.updated: ${short(entry.pull.changes.customers)}`)
  check(pulled(entry.pull, 'tasks').created.has(task.id), 'the new task is not in tasks.created')
  check(pulled(entry.pull, 'contacts').created.has(contact.id),
    'the new contact is not in contacts.created')
  check(pulled(entry.pull, 'contacts').deleted.has(gone.id),
    'the deleted contact is not in contacts.deleted')

  const local = (await device.find('customers', c1.id))._raw
  checkEqual([local.notes, local.tier, local.visit_every_days, local.version, local.updated_at],
    [patched.notes, tier, 7, patched.version, msLike(local.updated_at, patched.updated_at)],
    'the patched customer on the device')
  const localTask = (await device.find('tasks', task.id))?._raw
  checkEqual([localTask?.title, localTask?.assignee_id, localTask?.due_at, localTask?.done],
    [task.title, rep.id, msLike(localTask?.due_at, task.due_at), false],
    'the new task on the device')
  checkEqual((await device.find('contacts', contact.id))?._raw.name, contact.name,
    'the new contact on the device')
  check(!(await device.find('contacts', gone.id)), 'the deleted contact is still on the device')
  await checkMirrors(device, rep, { what: 'after the manager\'s changes' })
}

// -- d. two devices, one customer -----------------------------------------------------------
// docs/sync-protocol.md "Conflict rules": per field; a field changed on the server after the
// device's base version by another device is concurrent, and the later effective edit time
// (the raw `updated_at`, corrected by `device_time`) wins; the loser, on either side, goes to
// the conflict log. Two scenarios on two customers of rep4, edited on rep4's phone and on
// manager1's tablet.

/** How much earlier the "earlier" of two edits is made. */
const EARLIER_MS = 2000

async function twoDevicesOn(index) {
  const phone = await Device.signIn('rep4', { name: 'phone(rep4)' })
  const tablet = await Device.signIn('manager1', { name: 'tablet(manager1)' })
  await phone.syncClean('first sync')
  await tablet.syncClean('first sync')
  const customers = await ownedBy(phone, phone.session.id, index + 1)
  const id = customers[index].id
  check(await tablet.find('customers', id), `the manager's device does not have customer ${id}`)
  return { phone, tablet, rep: phone.session, manager: tablet.session, id }
}

/** What the device pushed for the customer: its base `version` and edit time. */
function pushedRaw(entry, id) {
  const raw = entry.push?.changes.customers.updated.find((r) => r.id === id)
  return raw ? `pushed version ${raw.version}, updated_at ${raw.updated_at}` : 'not pushed'
}

async function twoDevices() {
  const { phone, tablet, rep, manager, id } = await twoDevicesOn(0)
  await checkMirrors(tablet, manager, { what: 'the manager\'s first sync' })
  const x = await phone.find('customers', id)
  const versionBefore = x._raw.version
  // Different fields are both kept; the same field goes to the later edit, pushed last.
  const address = `${x._raw.address} (A ${RUN})`
  const phoneNumber = '+84 28 5555 0001'
  const earlier = `điện thoại ${RUN}`
  const later = `máy tính bảng ${RUN}`
  // The phone's edit is made two seconds before the tablet's (WatermelonDB stamps
  // `updated_at`; backdating it beats sleeping, and request latency cannot reorder them).
  await phone.update(x, { address, notes: earlier, updated_at: Date.now() - EARLIER_MS })
  await tablet.update(await tablet.find('customers', id), { phone: phoneNumber, notes: later })
  checkNothingRejected(await phone.syncClean('first push'), 'first push')
  const second = await tablet.syncClean('second push')
  checkNothingRejected(second, 'second push')
  checkEqual(second.push.response.conflicts, [],
    'the later edit won, so the manager\'s device lost nothing')
  const want = { address, phone: phoneNumber, notes: later }
  for (const who of [rep, manager]) {
    const record = await who.find('customers', id)
    checkEqual({ address: record.address, phone: record.phone, notes: record.notes }, want,
      `the customer as ${who.who} reads it`)
  }
  // The phone's notes were overwritten by a concurrent edit: the log keeps them.
  const log = (await manager.conflicts('customers', id))
    .filter((e) => e.field === 'notes' && e.lost_values?.notes === earlier)
  check(log.length === 1 && log[0].loser === 'server' && log[0].kept_values?.notes === later,
    () => `the conflict log does not hold the phone's overwritten notes (loser: server) once: ` +
      `${short(log)}; the tablet edited them without having seen the phone's edit (version ` +
      `${versionBefore}), yet ${pushedRaw(second, id)}`)
  await phone.syncClean('phone pulls')
  await tablet.syncClean('tablet pulls')
  for (const device of [phone, tablet]) {
    const raw = (await device.find('customers', id))._raw
    checkEqual({ address: raw.address, phone: raw.phone, notes: raw.notes }, want,
      `the customer on ${device.name}`)
  }
}

async function twoDevicesLatePush() {
  const { phone, tablet, rep, manager, id } = await twoDevicesOn(1)
  const versionBefore = (await tablet.find('customers', id))._raw.version
  // An edit made earlier but pushed later loses, and its device then shows the winner.
  const early = `máy tính bảng, sớm ${RUN}`
  const late = `điện thoại, muộn ${RUN}`
  await tablet.update(await tablet.find('customers', id),
    { notes: early, updated_at: Date.now() - EARLIER_MS })
  await phone.update(await phone.find('customers', id), { notes: late })
  await phone.syncClean('first push')
  const losing = await tablet.sync()
  for (const who of [rep, manager]) {
    checkEqual((await who.find('customers', id)).notes, late,
      `the notes as ${who.who} reads them after both pushes (the later edit, pushed first, ` +
      `must win; the tablet edited version ${versionBefore}, ${pushedRaw(losing, id)})`)
  }
  const lost = losing.push?.response?.conflicts || []
  check(lost.length === 1 && lost[0].id === id &&
    lost[0].fields.some((f) => f.field === 'notes' && f.yours === early && f.kept === 'server'),
  `the push response does not report the manager's lost notes: ${short(lost)}`)
  const log = (await manager.conflicts('customers', id))
    .filter((e) => e.field === 'notes' && e.lost_values?.notes === early)
  check(log.length === 1 && log[0].loser === 'device' && log[0].kept_values?.notes === late,
    `the conflict log does not hold the manager's losing notes (loser: device) once: ${short(log)}`)
  await phone.syncClean('phone pulls')
  const next = await tablet.syncClean('tablet pulls')
  checkEqual((await phone.find('customers', id))._raw.notes, late, 'the notes on the phone')
  checkEqual((await tablet.find('customers', id))._raw.notes, late,
    'the notes on the tablet after its next sync (it must get the merged record; that ' +
    `pull's customers: ${short(next.pull.changes.customers)})`)
}

// -- e. a customer reassigned away ----------------------------------------------------------

async function reassign() {
  const device = await Device.signIn('rep6')
  const rep = device.session
  const manager = await Session.login('manager2')
  await device.syncClean('first sync')
  const [home] = await device.all('territories')
  const other = (await manager.list('territories')).find((t) => t.id !== home.id)
  check(other, 'manager2 has no second territory')
  const rep7 = (await manager.list('users', { role: 'rep' }))
    .find((u) => u.email.startsWith('rep7@'))
  check(rep7 && other.rep_ids.includes(rep7.id), `rep7 does not work in ${other.name}`)

  // A customer of the rep's territory, with children on the device.
  let x
  const children = {}
  for (const customer of await ownedBy(device, rep.id, 1)) {
    for (const table of ['contacts', 'visits', 'orders', 'tasks']) {
      children[table] = (await device.all(table, Q.where('customer_id', customer.id)))
        .map((r) => r.id)
    }
    if (children.contacts.length && children.visits.length) {
      x = customer
      break
    }
  }
  check(x, 'no customer of rep6 with contacts and visits')
  const { territory_id: territoryId, owner_id: ownerId } = x._raw

  const moved = await manager.ok('POST', '/api/v1/customers/reassign',
    { customer_ids: [x.id], territory_id: other.id, owner_id: rep7.id })
  checkEqual(moved.updated, 1, 'customers reassigned')
  check(!(await rep.find('customers', x.id)), 'the rep still sees the reassigned customer')
  const away = await device.syncClean('sync after the reassignment')
  check(pulled(away.pull, 'customers').deleted.has(x.id),
    'the reassigned customer is not in customers.deleted')
  check(!(await device.find('customers', x.id)), 'the reassigned customer is still on the device')
  for (const [table, ids] of Object.entries(children)) {
    for (const childId of ids) {
      check(!(await device.find(table, childId)),
        `${table} ${childId} of the reassigned customer is still on the device`)
    }
  }
  await checkMirrors(device, rep, { what: 'after the reassignment' })

  // And back: the customer and its children come again, as created.
  await manager.ok('POST', '/api/v1/customers/reassign',
    { customer_ids: [x.id], territory_id: territoryId, owner_id: ownerId })
  const back = await device.syncClean('sync after the customer came back')
  check(pulled(back.pull, 'customers').created.has(x.id),
    'the customer given back is not in customers.created')
  for (const [table, ids] of Object.entries(children)) {
    const got = pulled(back.pull, table).created
    const missing = ids.filter((childId) => !got.has(childId))
    check(!missing.length, `${table} of the customer given back not in created: ${missing}`)
  }
  await checkMirrors(device, rep, { what: 'after the customer came back' })
}

// -- f. a failed push, retried --------------------------------------------------------------

async function pushRetry() {
  const device = await Device.signIn('rep8')
  const rep = device.session
  await device.syncClean('first sync')
  const [c1, ...others] = await ownedBy(device, rep.id, 2)
  const [c2, gone] = await withContact(device, others)
  const [product] = await device.all('products', Q.where('active', true))
  const contactsNamed = async (customerId, name) =>
    (await rep.list('contacts', { customer_id: customerId })).filter((c) => c.name === name)

  // 1. The server applies the push, the answer is lost: the app does not know.
  const contact = await device.create('contacts', { customer_id: c1.id, name: `Retry 1 ${RUN}` })
  const order = await device.create('orders', {
    customer_id: c1.id, rep_id: rep.id, status: 'draft', currency: 'VND',
    lines: JSON.stringify([{ product_id: product.id, quantity: '2', discount_pct: '0' }]),
  })
  await device.update(c1, { notes: `retry 1 ${RUN}` })
  await device.remove(gone)
  await expectPushFault(device, 'after')
  check(await device.unsynced(), 'after a lost answer the device should still hold its changes')
  const applied = await rep.find('customers', c1.id)
  checkEqual(applied.notes, `retry 1 ${RUN}`, 'the server applied the push whose answer was lost')
  checkEqual((await contactsNamed(c1.id, `Retry 1 ${RUN}`)).length, 1, 'contacts created')
  check(await rep.find('orders', order.id), 'the order of the lost answer is not on the server')
  check(!(await rep.find('contacts', gone.id)), 'the contact deleted is still on the server')

  const retry = await device.syncClean('retry after the lost answer')
  checkNothingRejected(retry, 'retry after the lost answer')
  for (const table of ['contacts', 'orders', 'customers']) {
    const created = pulled(retry.pull, table).created
    check(![contact.id, order.id, c1.id].some((id) => created.has(id)),
      `retry: the device's own ${table} came back as created`)
  }
  checkEqual((await contactsNamed(c1.id, `Retry 1 ${RUN}`)).length, 1,
    'contacts after the retry (no duplicate)')
  const afterRetry = await rep.find('customers', c1.id)
  checkEqual([afterRetry.notes, afterRetry.version], [applied.notes, applied.version],
    'the customer after the retry (nothing applied twice)')
  const orders = (await rep.list('orders', { customer_id: c1.id })).filter((o) => o.id === order.id)
  checkEqual(orders.length, 1, 'orders after the retry')
  check(!(await device.unsynced()), 'the retry left unsynced changes')

  // 2. The push fails before it is sent: nothing reaches the server until the retry.
  const contact2 = await device.create('contacts', { customer_id: c1.id, name: `Retry 2 ${RUN}` })
  await device.update(await device.find('customers', c1.id), { notes: `retry 2 ${RUN}` })
  await expectPushFault(device, 'before')
  check(!(await rep.find('contacts', contact2.id)), 'a push that was never sent reached the server')
  checkEqual((await rep.find('customers', c1.id)).notes, `retry 1 ${RUN}`,
    'the customer before the retry')
  checkNothingRejected(await device.syncClean('retry of the unsent push'), 'retry of the unsent push')
  checkEqual((await contactsNamed(c1.id, `Retry 2 ${RUN}`)).length, 1, 'contacts after the retry')
  checkEqual((await rep.find('customers', c1.id)).notes, `retry 2 ${RUN}`,
    'the customer after the retry')

  // 3. The same push sent twice (an HTTP retry): the second answer replays the first.
  const before = await rep.find('customers', c2.id)
  await device.create('contacts', { customer_id: c2.id, name: `Retry 3 ${RUN}` })
  await device.update(await device.find('customers', c2.id), { phone: `+84 28 ${RUN.slice(-4)}` })
  const twice = await device.sync({ resend: true })
  const [one, two] = twice.push.responses
  checkEqual(two, one, 'the answer to the same push sent again')
  checkNothingRejected(twice, 'the push sent twice')
  checkEqual((await contactsNamed(c2.id, `Retry 3 ${RUN}`)).length, 1,
    'contacts after the push sent twice')
  checkEqual((await rep.find('customers', c2.id)).version, before.version + 1,
    'the customer version after the push sent twice (applied once)')
  await device.syncClean('final sync')
  check(!(await device.unsynced()), 'unsynced changes left')
  await checkMirrors(device, rep, { what: 'after the retries' })
}

async function expectPushFault(device, when) {
  try {
    await device.sync({ pushFault: when })
  } catch (error) {
    if (error instanceof PushFault) return
    throw error
  }
  fail(`synchronize() did not fail although pushChanges threw (${when})`)
}

// -- g. a schema migration ------------------------------------------------------------------

/**
 * An older app, v1, without the `tasks` table and without `customers.tier`; the current app,
 * v2, is schema.js with a migration step adding both. These test versions are not the
 * server's schema versions (a `schema_version` above the server's is 426): both apps send
 * `schema_version=1`, and the v2 app's first sync carries
 * WatermelonDB's `migration` ({from: 1, tables: [tasks], columns: [customers.tier]}), for
 * which the server sends every task and every customer's tier of the rep's scope.
 */
function migrationSchemas() {
  const tables = Object.values(schema.tables)
  const tier = schema.tables.customers.columns.tier
  check(tier && schema.tables.tasks, 'schema.js no longer has customers.tier and tasks')
  const v1 = appSchema({
    version: 1,
    tables: tables.filter((t) => t.name !== 'tasks').map((t) => (t.name === 'customers'
      ? tableSchema({ name: t.name, columns: t.columnArray.filter((c) => c.name !== 'tier') })
      : t)),
  })
  const v2 = appSchema({ version: 2, tables })
  const migrations = schemaMigrations({
    migrations: [{
      toVersion: 2,
      steps: [
        createTable({ name: 'tasks', columns: schema.tables.tasks.columnArray }),
        addColumns({ table: 'customers', columns: [tier] }),
      ],
    }],
  })
  return { v1, v2, migrations, none: schemaMigrations({ migrations: [] }) }
}

async function migration() {
  const { v1, v2, migrations, none } = migrationSchemas()
  const rep = await Session.login('rep2')
  const manager = await Session.login('manager1')
  const old = new Device(rep, { schema: v1, migrations: none, name: 'rep2(v1)' })
  await old.syncClean('first sync on v1')
  const tables = TABLES.filter((t) => t !== 'tasks')
  await checkMirrors(old, rep, { tables, what: 'v1 after its first sync' })
  const [someone] = await old.all('customers')
  check(!('tier' in someone._raw), 'a v1 customer has a tier column')

  // Changes while the phone still runs the old app: a new task, a tier.
  const [c1, c2] = (await old.all('customers', Q.where('owner_id', rep.id))).sort(byId)
  const task = await manager.ok('POST', '/api/v1/tasks',
    { customer_id: c1.id, assignee_id: rep.id, title: `Sau khi cập nhật ${RUN}` })
  const before = await manager.find('customers', c2.id)
  const newTier = before.tier === 'A' ? 'C' : 'A'
  await manager.ok('PATCH', `/api/v1/customers/${c2.id}`, { tier: newTier })
  await old.syncClean('v1 sync of the changes')

  // The app is updated: the same data, migrated to v2 by the adapter, then synced.
  const device = await old.upgrade(v2, migrations, { serverSchemaVersion: 1 })
  checkEqual(await device.count('tasks'), 0, 'tasks right after the local migration')
  const entry = await device.syncClean('first sync after the migration')
  checkEqual(entry.query.schemaVersion, 2, 'the schema version WatermelonDB reports')
  checkEqual(entry.query.migration,
    { from: 1, tables: ['tasks'], columns: [{ table: 'customers', columns: ['tier'] }] },
    'the migration WatermelonDB sends')
  check(pulled(entry.pull, 'tasks').created.has(task.id), 'the new task is not in tasks.created')
  await checkMirrors(device, rep, { what: 'after the migration pull' })
  const tiers = []
  for (const customer of await rep.list('customers')) {
    const local = (await device.find('customers', customer.id))._raw.tier
    if (local !== customer.tier) tiers.push(`${customer.id}: ${local} != ${customer.tier}`)
  }
  check(!tiers.length, `customers.tier not filled by the migration pull: ${short(tiers)}`)
  checkEqual((await device.find('customers', c2.id))._raw.tier, newTier, 'the changed tier')
  for (const serverTask of await rep.list('tasks')) {
    const local = (await device.find('tasks', serverTask.id))._raw
    checkEqual([local.title, local.customer_id, local.done],
      [serverTask.title, serverTask.customer_id, serverTask.done], `task ${serverTask.id}`)
  }
  const next = await device.syncClean('the sync after')
  checkEqual(next.query.migration, null, 'the migration of the sync after the migration pull')
}

// -- h. app schemas without `version` or the time columns -----------------------------------
// Apps declare their own schema, and many have no `version` column; some models have no
// `updatedAt` either (so WatermelonDB stamps no edit time). A plain sequential edit must not
// land in the conflict log (a manager "restoring" it would undo the device's edit); a real
// concurrent edit is still merged and logged once (docs/watermelondb.md, "base version").

function schemaWithout(columns) {
  return appSchema({
    version: schema.version,
    tables: Object.values(schema.tables).map((t) => tableSchema({
      name: t.name, columns: t.columnArray.filter((c) => !columns.includes(c.name)),
    })),
  })
}

async function appSchemas() {
  const rep = await Session.login('rep7')
  const manager = await Session.login('manager2')
  const apps = [
    { what: 'no version', drop: ['version'], stamps: true },
    { what: 'no version or times', drop: ['version', 'created_at', 'updated_at'], stamps: false },
  ]
  for (const [index, app] of apps.entries()) {
    const device = new Device(rep, {
      schema: schemaWithout(app.drop), stamps: app.stamps, name: `rep7(${app.what})`,
    })
    await device.syncClean('first sync')
    const customer = (await ownedBy(device, rep.id, apps.length))[index]
    const id = customer.id
    check(!app.drop.some((c) => c in customer._raw), `${device.name} holds ${app.drop}`)
    const notes = (label) => `${label} (${app.what}) ${RUN}`
    const ours = (entries) => entries.filter((e) => e.field === 'notes' &&
      [e.lost_values?.notes, e.kept_values?.notes].some((v) => v?.endsWith(`(${app.what}) ${RUN}`)))

    // Sequential: edit and push, the manager edits, the device pulls that, edits, pushes.
    await device.update(customer, { notes: notes('first') })
    await device.syncClean('push of the first edit')
    await manager.ok('PATCH', `/api/v1/customers/${id}`, { notes: notes('office') })
    await device.syncClean('pull of the manager\'s edit')
    const pulledNotes = (await device.find('customers', id))._raw.notes
    checkEqual(pulledNotes, notes('office'), `${device.name}: the manager's notes`)
    await device.update(await device.find('customers', id), { notes: notes('second') })
    const sequential = await device.syncClean('push of an edit made after that pull')
    checkEqual(sequential.push.response.conflicts, [], `${device.name}: conflicts of the push`)
    checkEqual((await manager.find('customers', id)).notes, notes('second'),
      `${device.name}: the notes after sequential edits`)
    const falseOnes = ours(await manager.conflicts('customers', id))
    check(!falseOnes.length, () => `${device.name}: sequential edits (pull, edit, push, ` +
      `server edit, pull, edit, push) were logged as conflicts: ${short(falseOnes)}`)

    // Concurrent: the device edits, the manager edits the same field before the device's
    // push (after its pull). The later edit wins; without an edit time the device's edit
    // counts as made when it arrives, so it wins.
    await device.update(await device.find('customers', id), { notes: notes('phone') })
    const office = () => manager.ok('PATCH', `/api/v1/customers/${id}`,
      { notes: notes('office 2') })
    const concurrent = await device.syncClean('push of a concurrent edit', { beforePush: office })
    const [winner, loser, lost] = app.stamps
      ? [notes('office 2'), 'device', notes('phone')]
      : [notes('phone'), 'server', notes('office 2')]
    checkEqual((await manager.find('customers', id)).notes, winner,
      `${device.name}: the notes after concurrent edits`)
    checkEqual(concurrent.push.response.conflicts.length, loser === 'device' ? 1 : 0,
      `${device.name}: conflicts in the push response`)
    const logged = ours(await manager.conflicts('customers', id))
      .map((e) => [e.loser, e.lost_values?.notes, e.kept_values?.notes])
    checkEqual(logged, [[loser, lost, winner]], `${device.name}: the concurrent edit's log`)
    await device.syncClean('sync after the concurrent edit')
    checkEqual((await device.find('customers', id))._raw.notes, winner,
      `${device.name}: the notes on the device after its next sync`)
  }
}

// -- the runner -----------------------------------------------------------------------------

const SCENARIOS = {
  'first-sync': firstSync,
  'offline-edits': offlineEdits,
  'server-changes': serverChanges,
  'two-devices': twoDevices,
  'two-devices-late-push': twoDevicesLatePush,
  reassign,
  'push-retry': pushRetry,
  migration,
  'app-schemas': appSchemas,
}

async function main(args) {
  if (args.includes('--list')) {
    console.log(Object.keys(SCENARIOS).join('\n'))
    return 0
  }
  const names = args.length ? args : Object.keys(SCENARIOS)
  const unknown = names.filter((n) => !(n in SCENARIOS))
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS)}`)
    return 2
  }
  let failed = 0
  for (const name of names) {
    const started = performance.now()
    try {
      const result = await SCENARIOS[name]()
      const took = Math.round(performance.now() - started)
      console.log(`ok   ${name} (${took} ms)${result ? ` ${JSON.stringify(result)}` : ''}`)
    } catch (error) {
      failed += 1
      const message = error instanceof Failure ? error.message : error?.stack || String(error)
      console.error(`FAIL: ${name}: ${message}`)
    }
  }
  return failed ? 1 : 0
}

process.exitCode = await main(process.argv.slice(2))
