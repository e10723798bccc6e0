// A real WatermelonDB 0.28 client (LokiJS adapter, in memory) syncing with a live fieldsync:
// first sync, a local create + edit pushed, then a second sync that must not bring the
// device's own records back as `created`.
//   FIELDSYNC_URL=http://127.0.0.1:8000 FIELDSYNC_EMAIL=rep1@demo.fieldsync.dev \
//   FIELDSYNC_PASSWORD=demo-pass-2026 node first-sync.js
import { randomUUID } from 'node:crypto'
import { Database, Model } from '@nozbe/watermelondb'
import LokiPkg from '@nozbe/watermelondb/adapters/lokijs/index.js'
import SyncPkg from '@nozbe/watermelondb/sync/index.js'
import RandomIdPkg from '@nozbe/watermelondb/utils/common/randomId/index.js'
import { schema } from './schema.js'
import { migrations } from './migrations.js'

const LokiJSAdapter = LokiPkg.default || LokiPkg
const { synchronize } = SyncPkg
const { setGenerator } = RandomIdPkg

const BASE = process.env.FIELDSYNC_URL || 'http://127.0.0.1:8000'
const EMAIL = process.env.FIELDSYNC_EMAIL || 'rep1@demo.fieldsync.dev'
const PASSWORD = process.env.FIELDSYNC_PASSWORD || 'demo-pass-2026'
setGenerator(() => randomUUID())

const modelClasses = Object.keys(schema.tables).map((table) => {
  const cls = class extends Model {}
  cls.table = table
  return cls
})

async function login() {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD, device_id: `node-${randomUUID()}` }),
  })
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`)
  return (await res.json()).access_token
}

function sync(database, token, seen) {
  const auth = { Authorization: `Bearer ${token}` }
  const log = {}
  return synchronize({
    database,
    log,
    migrationsEnabledAtVersion: 1,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const q = `last_pulled_at=${lastPulledAt ?? 'null'}&schema_version=${schemaVersion}` +
        `&migration=${encodeURIComponent(JSON.stringify(migration))}`
      const res = await fetch(`${BASE}/api/v1/sync/watermelon?${q}`, { headers: auth })
      if (!res.ok) throw new Error(`pull: ${res.status} ${await res.text()}`)
      const body = await res.json()
      seen.push(body)
      return body
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      const res = await fetch(`${BASE}/api/v1/sync/watermelon`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ changes, lastPulledAt, device_time: Date.now() }),
      })
      if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`)
      const body = await res.json()
      seen.push(body)
      return body
    },
  }).then(() => log)
}

function fail(message) {
  console.error(`FAIL: ${message}`)
  process.exit(1)
}

const adapter = new LokiJSAdapter({
  schema,
  migrations,
  useWebWorker: false,
  useIncrementalIndexedDB: false,
  extraLokiOptions: { autosave: false },
})
const database = new Database({ adapter, modelClasses })
const token = await login()
const seen = []

const first = await sync(database, token, seen)
const counts = {}
for (const table of Object.keys(schema.tables)) {
  counts[table] = await database.get(table).query().fetchCount()
}
console.log('first sync', { timestamp: first.newLastPulledAt, counts })
if (!counts.customers) fail('no customers after the first sync')

const customers = await database.get('customers').query().fetch()
const customer = customers[0]
let contact
await database.write(async () => {
  contact = await database.get('contacts').create((c) => {
    c._setRaw('customer_id', customer.id)
    c._setRaw('name', 'Chị Lan (WatermelonDB)')
    c._setRaw('phone', '+84 28 0000 0000')
  })
  await customer.update((c) => { c._setRaw('notes', `edited from WatermelonDB at ${Date.now()}`) })
})

seen.length = 0
const second = await sync(database, token, seen)
const push = seen.find((b) => 'experimentalRejectedIds' in b)
if (!push) fail('nothing was pushed')
if (Object.keys(push.experimentalRejectedIds).length) fail(`rejected: ${JSON.stringify(push)}`)
seen.length = 0
const third = await sync(database, token, seen)
const [pull] = seen
const echoed = pull.changes.contacts.created.concat(pull.changes.customers.created)
  .filter((r) => r.id === contact.id || r.id === customer.id)
if (echoed.length) fail(`own changes came back as created: ${JSON.stringify(echoed)}`)
const unsynced = await database.get('contacts').query().fetch()
const local = unsynced.find((c) => c.id === contact.id)
if (!local || local._raw._status !== 'synced') fail(`contact not synced: ${JSON.stringify(local?._raw)}`)
const check = await fetch(`${BASE}/api/v1/customers/${customer.id}`, {
  headers: { Authorization: `Bearer ${token}` },
}).then((r) => r.json())
if (!String(check.notes).startsWith('edited from WatermelonDB')) {
  fail(`the customer edit did not reach the server: ${JSON.stringify(check.notes)}`)
}
console.log('second sync pushed', { contact: contact.id, customer: customer.id,
  timestamps: [second.newLastPulledAt, third.newLastPulledAt] })
console.log('OK')
