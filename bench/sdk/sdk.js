// Our side of ./bench/run sdk, bundled for the browser (build.mjs): @fieldsync/client on a
// fresh IndexedDB (DexieStorage). `window.benchSdk({email, password, run, queries})` signs
// in (not timed), times the first `sync()` (until it resolves: the records are applied to
// IndexedDB), then times `search('customers', q, {limit: 50})` once per query.
import { SyncClient, DexieStorage } from '@fieldsync/client'

window.benchSdk = async ({ email, password, run, queries }) => {
  const c = new SyncClient({ baseUrl: location.origin, storage: new DexieStorage(`bench-${run}`) })
  await c.signIn(email, password)
  const t0 = performance.now()
  const result = await c.sync()
  const t1 = performance.now()
  const searches = []
  for (const q of queries) {
    const started = performance.now()
    const hits = await c.search('customers', q, { limit: 50 })
    const ms = performance.now() - started
    searches.push({ q, ms, hits: hits.length, first: hits.slice(0, 3).map((h) => h.name ?? h.record?.name ?? null) })
  }
  let records = null
  try {
    records = typeof c.count === 'function' ? await c.count() : null
  } catch {
    records = null
  }
  return { syncMs: t1 - t0, result: summarize(result), records, searches }
}

function summarize(result) {
  if (result == null || typeof result !== 'object') return result ?? null
  const out = {}
  for (const [key, value] of Object.entries(result)) {
    if (value == null || typeof value !== 'object') out[key] = value
  }
  return out
}
