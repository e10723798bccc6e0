// Our side of ./bench/run sdk, bundled for the browser (build.mjs): @fieldsync/client on a
// fresh IndexedDB (IndexedDBStorage, the adapter the docs recommend for browsers). `window.benchSdk({email, password, run, queries})` signs
// in (not timed), times the first `sync()` (until it resolves: the records are applied to
// IndexedDB), then times `search('customers', q, {limit: 50})` once per query.
//
// The client is made as an app makes it, `new SyncClient({baseUrl, storage})`. Should its
// sign-in fail that way, the cause is returned (`defaultFetchError`) and the client is made
// again with `fetch` passed in explicitly, so that the rest is still measured and the
// table says so.
import { SyncClient, IndexedDBStorage } from '@fieldsync/client'
import { pullRequests } from './timing.js'

async function signedIn(email, password, run) {
  const baseUrl = location.origin
  let c = new SyncClient({ baseUrl, storage: new IndexedDBStorage(`bench-${run}`) })
  try {
    await c.signIn(email, password)
    return { c, defaultFetchError: null }
  } catch (error) {
    stage = `signIn with fetch passed in, after ${error?.name}: ${error?.message} (cause ${error?.cause})`
    const cause = error?.cause ? `${error.cause.name}: ${error.cause.message}` : ''
    const defaultFetchError = `${error?.name}: ${error?.message}${cause ? ` (cause ${cause})` : ''}`
    const storage = new IndexedDBStorage(`bench-${run}-fetch`)
    c = new SyncClient({ baseUrl, storage, fetch: (url, init) => fetch(url, init) })
    await c.signIn(email, password)
    return { c, defaultFetchError }
  }
}

let stage = 'start'

window.benchSdk = async (args) => {
  try {
    return await bench(args)
  } catch (error) {
    const detail = error && typeof error === 'object'
      ? `${error.name}: ${error.message} code=${error.code} status=${error.status} ` +
        `${JSON.stringify(error.body ?? error.details ?? null)?.slice(0, 300)} ` +
        `cause=${error.cause?.name}: ${error.cause?.message}\n${error.stack}`
      : String(error)
    throw new Error(`during ${stage}: ${detail}`)
  }
}

async function bench({ email, password, run, queries }) {
  stage = 'signIn'
  const { c, defaultFetchError } = await signedIn(email, password, run)
  stage = 'sync'
  const t0 = performance.now()
  const result = await c.sync()
  const t1 = performance.now()
  const requests = pullRequests(t0, t1)
  stage = 'search'
  const searches = []
  for (const q of queries) {
    const started = performance.now()
    const hits = await c.search('customers', q, { limit: 50 })
    const ms = performance.now() - started
    searches.push({ q, ms, hits: hits.length })
  }
  // What the sync saved must be there for the next app start: reopen the database.
  stage = 'reopen'
  c.storage.close()
  const reopened = new IndexedDBStorage(c.storage.name)
  const persisted = { customers: (await reopened.all('customers')).length, cursor: Boolean(await reopened.getMeta('cursor')) }
  reopened.close()
  return {
    syncMs: t1 - t0,
    persisted,
    records: result?.pulled ?? null,
    pushed: result?.pushed ?? null,
    defaultFetchError,
    requests,
    indexedDB: (await indexedDB.databases()).map((d) => d.name),
    searches,
  }
}
