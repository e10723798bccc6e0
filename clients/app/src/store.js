/* One SyncClient for the app, when to sync, and the state every screen shows
 * (offline, changes waiting, storage full, a new version). Screens re-read the local
 * copy whenever `changed` fires: after every local write, sync and wipe. */
import { SyncClient, IndexedDBStorage } from '@fieldsync/client'
import { useEffect, useState } from 'preact/hooks'

export const client = new SyncClient({
  baseUrl: location.origin,
  storage: new IndexedDBStorage('fieldsync-app'),
  deviceName: deviceName(),
  // One bar of signal: fail fast and try again later rather than hang the screen.
  retry: { baseMs: 300, maxMs: 3000, attempts: 3 },
})

function deviceName() {
  const ua = navigator.userAgent
  const model = /Android[^;)]*;\s*([^;)]+)/.exec(ua)?.[1]
  return `fieldsync Field${model ? ` (${model.trim()})` : ''}`
}

export const state = {
  online: navigator.onLine,
  syncing: false,
  lastError: null, // the last sync's FieldsyncError code, or null
  outbox: 0,
  lastSyncedAt: null,
  storageFull: false,
  persisted: null,
  needRefresh: null, // a function that reloads into the new version
  wiped: false,
  signingIn: false, // sign-in and first sync running: the sign-in screen stays
  sessionEnded: null, // the code that ended the session (the data stays)
  revision: 0,
}
const listeners = new Set()

export function changed(patch = {}) {
  Object.assign(state, patch, { revision: state.revision + 1 })
  for (const fn of listeners) fn(state.revision)
}

/** Re-render when the state or the local copy changes. */
export function useRevision() {
  const [revision, setRevision] = useState(state.revision)
  useEffect(() => {
    listeners.add(setRevision)
    return () => listeners.delete(setRevision)
  }, [])
  return revision
}

/** `loader()` run again after every change; `undefined` until it answers. */
export function useData(loader, deps = []) {
  const revision = useRevision()
  const [value, setValue] = useState(undefined)
  useEffect(() => {
    let alive = true
    loader().then((v) => alive && setValue(v), (e) => { console.error(e); alive && setValue(null) })
    return () => { alive = false }
  }, [revision, ...deps])
  return value
}

const ENDED = ['session_ended', 'session_revoked', 'refresh_token_reused', 'invalid_token', 'unauthenticated', 'account_disabled', 'device_revoked', 'not_signed_in']

client.on('outbox', (size) => changed({ outbox: size }))
client.on('sync:start', () => changed({ syncing: true }))
client.on('sync:done', () => changed({ syncing: false, lastError: null, online: true, lastSyncedAt: client.status.lastSyncedAt }))
client.on('sync:error', (error) => {
  const code = error?.code || error?.name || 'error'
  changed({
    syncing: false,
    lastError: code,
    online: code === 'network' ? false : state.online,
    storageFull: state.storageFull || isQuota(error),
    sessionEnded: ENDED.includes(code) ? code : state.sessionEnded,
  })
})
client.on('wiped', () => changed({ wiped: true, outbox: 0, lastSyncedAt: null }))

export function isQuota(error) {
  const name = error?.name || error?.inner?.name || ''
  return name === 'QuotaExceededError' || /quota/i.test(String(error?.message || ''))
}

/** Every local write goes through here: a full disk is shown, never silently dropped. */
export async function write(fn) {
  try {
    const result = await fn(client)
    changed({ storageFull: false })
    scheduleSync()
    return result
  } catch (error) {
    if (isQuota(error)) changed({ storageFull: true })
    throw error
  }
}

let timer = null
/** Sync a little after a write (several quick edits travel together). */
export function scheduleSync(ms = 2000) {
  clearTimeout(timer)
  timer = setTimeout(() => syncNow().catch(() => {}), ms)
}

export async function syncNow() {
  if (!client.user) return null
  return client.sync()
}

export async function start() {
  await client.ready()
  changed({ outbox: client.status.outboxSize, lastSyncedAt: client.status.lastSyncedAt })
  addEventListener('online', () => { changed({ online: true }); syncNow().catch(() => {}) })
  addEventListener('offline', () => changed({ online: false }))
  setInterval(() => { if (navigator.onLine) syncNow().catch(() => {}) }, 60_000)
  if (navigator.storage?.persist) {
    navigator.storage.persisted().then(async (done) => changed({ persisted: done || await navigator.storage.persist() })).catch(() => {})
  }
  if (client.user) syncNow().catch(() => {})
}

/** Sign in, then the first sync while the sign-in screen says so (the app is empty before). */
export async function signIn(email, password) {
  changed({ signingIn: true })
  try {
    const user = await client.signIn(email, password)
    changed({ wiped: false, sessionEnded: null })
    performance.mark('fieldsync:first-sync')
    await client.sync()
    performance.measure('fieldsync:first-sync', 'fieldsync:first-sync') // bench/app_bench.py
    return user
  } finally {
    changed({ signingIn: false })
  }
}

/** The signed-in user's own id (for the records the rep creates). */
export const me = () => client.user?.id
export const today = () => localDate(new Date())
export function localDate(d) {
  const pad = (n) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}
/** The phone's own calendar day of a stored instant (UTC text), as `today()` counts days. */
export const dayOf = (iso) => (iso ? localDate(new Date(iso)) : null)
export const nowIso = () => new Date().toISOString()

/** Due for a visit: never visited, or the cadence has passed. */
export function nextDue(customer) {
  if (!customer.last_visit_at) return null
  return new Date(new Date(customer.last_visit_at).getTime() + (customer.visit_every_days || 30) * 86400000)
}
export function isOverdue(customer, now = new Date()) {
  if (customer.status === 'inactive') return false
  const due = nextDue(customer)
  return due === null || due < now
}

/** Checked in and not yet out (nor closed another way). */
export function isOpen(visit) {
  return Boolean(visit.check_in_at) && !visit.check_out_at && !['completed', 'cancelled', 'missed'].includes(visit.status)
}

/** The rep's open visit at this customer, if any (one at a time). */
export function openVisit(visits) {
  return visits.find((v) => isOpen(v) && v.rep_id === me())
}

/** The rep's plan for `date`, else the latest before it, else any: a screen is never blind. */
export async function currentPlan(date = today()) {
  const plans = (await client.all('route_plans')).filter((p) => p.rep_id === me())
  plans.sort((a, b) => (a.plan_date < b.plan_date ? 1 : -1))
  return plans.find((p) => p.plan_date === date) || plans.find((p) => p.plan_date < date) || plans[0] || null
}

/** The plan's timeline; plans stored before lunch became a step have no `kind`. */
export const steps = (plan) => (plan?.stops || []).map((s) => ({ ...s, kind: s.kind || 'visit' }))

export function go(path) {
  location.hash = `#${path}`
}
