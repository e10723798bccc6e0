/* The frame of every screen: header, offline / waiting / storage / new-version banners,
 * and the bottom navigation within thumb reach. */
import { t, number, km } from './i18n.js'
import { state, useRevision, syncNow } from './store.js'

export function Screen({ title, back, children, testid }) {
  useRevision()
  return (
    <div class="screen" data-testid={`screen-${testid}`}>
      <header class="top">
        {back ? <button class="icon" aria-label={t('app.back')} data-testid="back" onClick={() => history.back()}>‹</button> : <span class="brand">Field</span>}
        <h1>{title}</h1>
        <a class="icon" href="#/settings" aria-label={t('app.nav.settings')} data-testid="nav-settings">⚙</a>
      </header>
      <Banners />
      <main>{children}</main>
      <Nav />
    </div>
  )
}

function Banners() {
  const offline = !state.online
  return (
    <div class="banners">
      {state.storageFull && <p class="banner danger" role="alert" data-testid="banner-storage">{t('app.banner.storage_full')}</p>}
      {state.needRefresh && (
        <p class="banner info" data-testid="banner-update">{t('app.banner.update')}
          <button class="small" onClick={() => state.needRefresh()}>{t('app.banner.reload')}</button></p>
      )}
      {state.sessionEnded && !state.wiped && (
        <p class="banner danger" data-testid="banner-session">{t('app.banner.session_ended')}
          <a class="small button" href="#/login">{t('app.login.submit')}</a></p>
      )}
      {(offline || state.outbox > 0) && (
        <p class={`banner ${offline ? 'offline' : 'waiting'}`} data-testid="banner-sync" role="status">
          <span>{offline ? t('app.banner.offline') : ''} {state.outbox > 0 ? t('app.banner.waiting', { count: state.outbox }) : ''}</span>
          {!offline && <button class="small" onClick={() => syncNow().catch(() => {})} disabled={state.syncing}>{t('app.sync.now')}</button>}
        </p>
      )}
    </div>
  )
}

const TABS = [
  ['today', '☀'],
  ['map', '◎'],
  ['customers', '☰'],
  ['tasks', '✓'],
  ['sync', '⇅'],
]

function Nav() {
  const here = location.hash.split('/')[1] || 'today'
  return (
    <nav class="tabs">
      {TABS.map(([name, icon]) => (
        <a href={`#/${name}`} class={here === name ? 'on' : ''} data-testid={`nav-${name}`} aria-current={here === name ? 'page' : undefined}>
          <span class="tab-icon" aria-hidden="true">{icon}</span>
          <span class="tab-label">{t(`app.nav.${name}`)}</span>
          {name === 'sync' && state.outbox > 0 ? <b class="badge tab-badge" data-testid="outbox-badge">{number(state.outbox)}</b> : null}
        </a>
      ))}
    </nav>
  )
}

export function Empty({ children }) {
  return <p class="empty">{children}</p>
}

export function Loading() {
  return <p class="empty">{t('app.loading')}</p>
}

/**
 * A card listing `rows`, each drawn by `row`: "loading" while `rows` is undefined, `empty`
 * when there are none; `children` follow the list.
 */
export function ListCard({ title, rows, row, empty, testid, listTestid, children }) {
  return (
    <section class="card" data-testid={testid}>
      <h2>{title}</h2>
      {rows === undefined ? <Loading /> : !rows.length ? <Empty>{empty}</Empty> : <ul class="list" data-testid={listTestid}>{rows.map(row)}</ul>}
      {children}
    </section>
  )
}

/** A form field's text, trimmed; null when blank (stored as "no value", not ""). */
export function formText(form, name) {
  return String(form.get(name) || '').trim() || null
}

export function Field({ label, children }) {
  return <label class="field"><span>{label}</span>{children}</label>
}

/** Where a visit's check-in stands: verified, too far, unverified, or not yet checked by the
 * server (not synced). */
export const checkStatus = (visit) => visit.location_status || (visit.version ? 'unverified' : 'pending')

/** A visit's check-in tag. */
export function verification(visit) {
  if (!visit.check_in_at) return null
  const status = checkStatus(visit)
  return <span class={`tag checkin ${status}`} data-testid="check-in-status">{t(`app.check.${status}`)}{visit.check_in_distance_m != null ? ` · ${km(visit.check_in_distance_m)}` : ''}</span>
}
