/* Customers: offline search (accent- and case-insensitive, any script), near me, filters;
 * a new prospect at the current position. */
import { useEffect, useState } from 'preact/hooks'
import { t, km } from '../i18n.js'
import { client, useData, isOverdue, write, go } from '../store.js'
import { position, distance } from '../geo.js'
import { Screen, Empty, Loading, Field, formText } from '../ui.jsx'

const STATUSES = ['lead', 'prospect', 'active', 'inactive']
const TIERS = ['A', 'B', 'C']

export function Customers() {
  const params = new URLSearchParams(location.hash.split('?')[1] || '')
  const [q, setQ] = useState('')
  const [overdue, setOverdue] = useState(params.get('overdue') === '1')
  const [status, setStatus] = useState('')
  const [tier, setTier] = useState('')
  const [here, setHere] = useState(null)
  const [geoError, setGeoError] = useState(null)
  const list = useData(async () => {
    let rows = q.trim() ? await client.search('customers', q, { limit: 5000 }) : await client.all('customers')
    rows = rows.filter((c) => (!overdue || isOverdue(c)) && (!status || c.status === status) && (!tier || c.tier === tier))
    if (here) {
      for (const c of rows) c._d = distance(here, c)
      rows.sort((a, b) => (a._d ?? Infinity) - (b._d ?? Infinity))
    } else {
      rows.sort((a, b) => a.name.localeCompare(b.name))
    }
    return rows
  }, [q, overdue, status, tier, here])
  async function nearMe() {
    if (here) { setHere(null); return }
    setGeoError(null)
    try { setHere(await position()) } catch { setGeoError(t('app.geo.failed')) }
  }
  return (
    <Screen title={t('app.customers.title')} testid="customers">
      <div class="searchbar">
        <input type="search" placeholder={t('app.customers.search')} aria-label={t('app.customers.search')} value={q} onInput={(e) => setQ(e.target.value)} data-testid="customer-search" />
      </div>
      <div class="chips">
        <button class={here ? 'chip on' : 'chip'} onClick={nearMe} aria-pressed={!!here} data-testid="near-me">◉ {t('app.customers.near_me')}</button>
        <button class={overdue ? 'chip on' : 'chip'} onClick={() => setOverdue(!overdue)} aria-pressed={overdue} data-testid="filter-overdue">{t('app.customers.overdue')}</button>
        <select class="chip" value={status} onChange={(e) => setStatus(e.target.value)} aria-label={t('filters.status')} data-testid="filter-status">
          <option value="">{t('filters.status')}: {t('filters.all')}</option>
          {STATUSES.map((s) => <option value={s}>{t(`status.${s}`)}</option>)}
        </select>
        <select class="chip" value={tier} onChange={(e) => setTier(e.target.value)} aria-label={t('app.customers.tier')} data-testid="filter-tier">
          <option value="">{t('app.customers.tier')}: {t('filters.all')}</option>
          {TIERS.map((s) => <option value={s}>{s}</option>)}
        </select>
      </div>
      {geoError && <p class="error">{geoError}</p>}
      <a class="button primary wide" href="#/prospect" data-testid="new-prospect">+ {t('app.prospect.new')}</a>
      {list === undefined ? <Loading /> : (
        <>
          <p class="muted" data-testid="customer-count">{t('app.customers.count', { count: list.length })}</p>
          {!list.length && <Empty>{t('app.customers.none')}</Empty>}
          <ul class="list customers" data-testid="customer-list">
            {list.slice(0, 100).map((c) => (
              <li><a class="row" href={`#/customer/${c.id}`} data-testid="customer-row">
                <span class="grow"><b>{c.name}</b><small class="muted">{[c.address, c.city].filter(Boolean).join(', ')}</small></span>
                <span class="end">
                  {c._d != null && <small data-testid="customer-distance">{km(c._d)}</small>}
                  <small class={`tag ${c.status}`}>{t(`status.${c.status}`)} · {c.tier}</small>
                  {isOverdue(c) && <small class="tag late">{t('app.customers.overdue')}</small>}
                </span>
              </a></li>
            ))}
          </ul>
          {list.length > 100 && <p class="muted">{t('app.customers.more', { count: list.length - 100 })}</p>}
        </>
      )}
    </Screen>
  )
}

export function Prospect() {
  const [fix, setFix] = useState(null)
  const [state, setState] = useState('idle')
  async function locate() {
    setState('locating')
    try { setFix(await position()); setState('idle') } catch { setState('geo-failed') }
  }
  // Found on the street: take the position at once (the rep may take it again).
  useEffect(() => { locate() }, [])
  async function save(event) {
    event.preventDefault()
    const form = new FormData(event.target)
    const fields = {
      name: String(form.get('name')).trim(),
      phone: formText(form, 'phone'),
      address: formText(form, 'address'),
      notes: formText(form, 'notes'),
      status: 'prospect',
      tier: 'C',
      owner_id: client.user.id,
    }
    if (fix) Object.assign(fields, { lat: fix.lat, lon: fix.lon })
    try {
      const record = await write((c) => c.create('customers', fields))
      go(`/customer/${record.id}`)
    } catch { setState('save-failed') }
  }
  return (
    <Screen title={t('app.prospect.new')} back testid="prospect">
      <form class="card" onSubmit={save}>
        <Field label={t('app.prospect.name')}><input name="name" required maxLength={200} data-testid="prospect-name" /></Field>
        <Field label={t('app.customer.phone')}><input name="phone" type="tel" inputMode="tel" maxLength={40} data-testid="prospect-phone" /></Field>
        <Field label={t('app.customer.address')}><input name="address" maxLength={300} /></Field>
        <Field label={t('app.visit.notes')}><textarea name="notes" rows={2} /></Field>
        <div class="position">
          <button type="button" onClick={locate} disabled={state === 'locating'} data-testid="prospect-locate">◉ {t('app.prospect.use_position')}</button>
          {fix && <p class="ok" data-testid="prospect-position">{t('app.geo.fix', { accuracy: Math.round(fix.accuracy_m) })}</p>}
          {state === 'geo-failed' && <p class="error">{t('app.geo.failed')}</p>}
        </div>
        <p class="muted">{t('app.prospect.unapproved')}</p>
        {state === 'save-failed' && <p class="error">{t('app.save_failed')}</p>}
        <button class="primary wide" type="submit" data-testid="prospect-save">{t('common.save')}</button>
      </form>
    </Screen>
  )
}
