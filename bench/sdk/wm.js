// The WatermelonDB side of ./bench/run sdk, bundled for the browser (build.mjs):
// WatermelonDB 0.28 with its LokiJS web adapter on IndexedDB (`useIncrementalIndexedDB:
// true`, `useWebWorker: false`), the schema and migrations of clients/watermelondb/, and
// `synchronize()` against our `/api/v1/sync/watermelon` endpoint, as docs/watermelondb.md
// and clients/watermelondb/harness.js do it.
//
// `window.benchWatermelon({email, password, run})` signs in (not timed), then times the
// first sync of a fresh database two ways: until `synchronize()` resolves (the records are
// in Loki's memory), and until Loki has written them to IndexedDB (`saveDatabase`).
import { Database, Model } from '@nozbe/watermelondb'
import LokiPkg from '@nozbe/watermelondb/adapters/lokijs'
import { synchronize } from '@nozbe/watermelondb/sync'
import { setGenerator } from '@nozbe/watermelondb/utils/common/randomId'
import LoggerPkg from '@nozbe/watermelondb/utils/common/logger'
import { schema } from '../../clients/watermelondb/schema.js'
import { migrations } from '../../clients/watermelondb/migrations.js'
import { pullRequests } from './timing.js'

// CommonJS modules imported from an ES module: their `exports`, default under `.default`.
const LokiJSAdapter = LokiPkg.default || LokiPkg
const logger = LoggerPkg.default || LoggerPkg

setGenerator(() => crypto.randomUUID()) // our ids are UUIDs
logger.silence()

class SyncedModel extends Model {
  // What `@readonly @date('created_at') createdAt` gives a decorated model (harness.js).
  get createdAt() {
    return this._getRaw('created_at')
  }

  get updatedAt() {
    return this._getRaw('updated_at')
  }
}

const modelClasses = Object.keys(schema.tables).map((table) => {
  const cls = class extends SyncedModel {}
  cls.table = table
  return cls
})

async function signIn(email, password, deviceId) {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, device_id: deviceId }),
  })
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`)
  return (await res.json()).access_token
}

function openDatabase(dbName) {
  return new Promise((resolve, reject) => {
    let failed = null
    const adapter = new LokiJSAdapter({
      schema,
      migrations,
      dbName,
      useWebWorker: false,
      useIncrementalIndexedDB: true,
      onSetUpError: (error) => {
        failed = error
        reject(error)
      },
    })
    const database = new Database({ adapter, modelClasses })
    // The adapter sets itself up in the background: wait for it (a first query) so that
    // opening IndexedDB is not timed as sync.
    database.get('customers').query().fetchCount().then(() => {
      if (!failed) resolve({ adapter, database })
    }, reject)
  })
}

function persisted(loki) {
  return new Promise((resolve, reject) => {
    loki.saveDatabase((error) => (error ? reject(error) : resolve()))
  })
}

window.benchWatermelon = async ({ email, password, run }) => {
  const token = await signIn(email, password, `bench-wm-${run}-${crypto.randomUUID()}`)
  const { adapter, database } = await openDatabase(`bench-wm-${run}`)
  const loki = adapter._driver.loki
  // Incremental IndexedDB, or (no IndexedDB) LokiJS's memory adapter: say which ran.
  const mode = loki.persistenceAdapter?.mode
  const persistence = mode === 'incremental' ? 'incremental IndexedDB' : `not IndexedDB (${mode})`
  let pulledBytes = 0
  let pullMs = 0
  const t0 = performance.now()
  await synchronize({
    database,
    migrationsEnabledAtVersion: 1,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const started = performance.now()
      const q = `last_pulled_at=${lastPulledAt ?? 'null'}&schema_version=${schemaVersion}` +
        `&migration=${encodeURIComponent(JSON.stringify(migration ?? null))}`
      const res = await fetch(`/api/v1/sync/watermelon?${q}`, {
        headers: { Authorization: `Bearer ${token}` },
      })
      if (!res.ok) throw new Error(`pull: ${res.status} ${await res.text()}`)
      const text = await res.text()
      pulledBytes += text.length
      const body = JSON.parse(text)
      pullMs += performance.now() - started
      return body
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      const res = await fetch('/api/v1/sync/watermelon', {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ changes, lastPulledAt, device_time: Date.now() }),
      })
      if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`)
      return { experimentalRejectedIds: (await res.json()).experimentalRejectedIds }
    },
  })
  const t1 = performance.now()
  const requests = pullRequests(t0, t1)
  await persisted(loki)
  const t2 = performance.now()
  const counts = {}
  let records = 0
  for (const table of Object.keys(schema.tables)) {
    counts[table] = await database.get(table).query().fetchCount()
    records += counts[table]
  }
  return {
    syncMs: t1 - t0,
    persistedMs: t2 - t0,
    pullMs,
    pulledBytes,
    records,
    counts,
    persistence,
    requests,
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
  }
}
