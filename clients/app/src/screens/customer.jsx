/* Customer card: details, contacts (tap to call or message), last visits with their check-in
 * verification, open orders and tasks, cadence; check in (one open visit per customer). */
import { useState } from 'preact/hooks'
import { t, day, dateTime, money } from '../i18n.js'
import { client, useData, write, go, nextDue, isOverdue, openVisit, nowIso, me } from '../store.js'
import { position } from '../geo.js'
import { orderTotal } from '@fieldsync/client'
import { Screen, Empty, Loading, Field, ListCard, verification, formText } from '../ui.jsx'

async function load(id) {
  const customer = await client.get('customers', id)
  if (!customer) return null
  const by = (rows) => rows.sort((a, b) => ((a.check_in_at || a.planned_at || a.created_at || '') < (b.check_in_at || b.planned_at || b.created_at || '') ? 1 : -1))
  const visits = by(await client.query('visits', { index: 'customer_id', equals: id }))
  const orders = (await client.query('orders', { index: 'customer_id', equals: id })).sort((a, b) => (a.created_at < b.created_at ? 1 : -1))
  const tasks = (await client.query('tasks', { index: 'customer_id', equals: id })).filter((x) => !x.done)
  const contacts = await client.query('contacts', { index: 'customer_id', equals: id })
  return { customer, visits, orders, tasks, contacts }
}

export function CustomerCard({ id }) {
  const data = useData(() => load(id), [id])
  const [busy, setBusy] = useState(null)
  const [editPhone, setEditPhone] = useState(false)
  if (data === undefined) return <Screen title="…" back testid="customer"><Loading /></Screen>
  if (data === null) return <Screen title={t('app.customer.title')} back testid="customer"><Empty>{t('app.customer.gone')}</Empty></Screen>
  const { customer: c, visits, orders, tasks, contacts } = data
  const open = openVisit(visits)
  const due = nextDue(c)
  async function checkIn() {
    setBusy('locating')
    let fix = null
    try { fix = await position() } catch { /* no fix: checked in unverified, with the device time */ }
    const fields = { customer_id: c.id, rep_id: me(), status: 'in_progress', check_in_at: nowIso() }
    if (fix) Object.assign(fields, { check_in_lat: fix.lat, check_in_lon: fix.lon, check_in_accuracy_m: fix.accuracy_m })
    try {
      const visit = await write((cl) => cl.create('visits', fields))
      go(`/visit/${visit.id}`)
    } catch { setBusy('failed') }
  }
  async function savePhone(event) {
    event.preventDefault()
    const phone = formText(new FormData(event.target), 'phone')
    try {
      await write((cl) => cl.update('customers', c.id, { phone }))
      setEditPhone(false)
    } catch { setBusy('failed') }
  }
  return (
    <Screen title={c.name} back testid="customer">
      <section class="card">
        <p><span class={`tag ${c.status}`}>{t(`status.${c.status}`)}</span> <span class="tag">{t('app.customers.tier')} {c.tier}</span>
          {!c.location_approved && <span class="tag late">{t('app.customer.unapproved')}</span>}</p>
        {(c.address || c.city) && <p>{[c.address, c.city].filter(Boolean).join(', ')}</p>}
        <p class="muted" data-testid="cadence">{t('app.customer.cadence', { days: c.visit_every_days })} · {due ? t('app.customer.next_due', { date: day(due.toISOString()) }) : t('app.customer.never')}
          {isOverdue(c) && <span class="tag late">{t('app.customers.overdue')}</span>}</p>
        {!editPhone && (
          <div class="actions">
            {c.phone && <a class="button" href={`tel:${c.phone}`} data-testid="customer-phone">☎ {c.phone}</a>}
            {c.phone && <a class="button" href={`sms:${c.phone}`}>✉ {t('app.customer.message')}</a>}
            <button onClick={() => setEditPhone(true)} data-testid="edit-phone">{t('app.customer.edit_phone')}</button>
          </div>
        )}
        {editPhone && (
          <form onSubmit={savePhone} class="inline">
            <Field label={t('app.customer.phone')}><input name="phone" type="tel" defaultValue={c.phone || ''} maxLength={40} data-testid="phone-input" /></Field>
            <button class="primary wide" type="submit" data-testid="phone-save">{t('common.save')}</button>
          </form>
        )}
      </section>
      <section class="card actions-card">
        {open
          ? <a class="button primary wide" href={`#/visit/${open.id}`} data-testid="open-visit">{t('app.customer.continue_visit')}</a>
          : <button class="primary wide" onClick={checkIn} disabled={busy === 'locating'} data-testid="check-in">{busy === 'locating' ? t('app.geo.locating') : t('app.customer.check_in')}</button>}
        {busy === 'failed' && <p class="error">{t('app.save_failed')}</p>}
        <div class="actions">
          <a class="button" href={`#/order/new?customer=${c.id}${open ? `&visit=${open.id}` : ''}`} data-testid="new-order">{t('app.order.new')}</a>
          <a class="button" href={`#/task/new?customer=${c.id}`} data-testid="new-task">{t('app.task.new')}</a>
        </div>
      </section>
      {contacts.length > 0 && (
        <section class="card">
          <h2>{t('app.customer.contacts')}</h2>
          <ul class="list">
            {contacts.map((p) => (
              <li class="row"><span class="grow"><b>{p.name}</b><small class="muted">{p.role}</small></span>
                {p.phone && <a class="button small" href={`tel:${p.phone}`} aria-label={t('app.customer.call', { name: p.name })}>☎</a>}
                {p.phone && <a class="button small" href={`sms:${p.phone}`} aria-label={t('app.customer.message')}>✉</a>}
                {p.email && <a class="button small" href={`mailto:${p.email}`} aria-label={t('app.field.email')}>@</a>}</li>
            ))}
          </ul>
        </section>
      )}
      <ListCard title={t('app.customer.visits')} rows={visits.slice(0, 5)} empty={t('app.customer.no_visits')} listTestid="visit-list" row={(v) => (
        <li><a class="row" href={`#/visit/${v.id}`} data-testid="visit-row"><span class="grow">{dateTime(v.check_in_at || v.planned_at)}<small class="muted">{t(`app.visit.status.${v.status}`)}{v.outcome ? ` · ${t(`app.visit.outcome.${v.outcome}`)}` : ''}</small></span>{verification(v)}</a></li>
      )} />
      <ListCard title={t('app.customer.orders')} rows={orders.slice(0, 5)} empty={t('app.customer.no_orders')} row={(o) => (
        <li><a class="row" href={`#/order/${o.id}`} data-testid="order-row"><span class="grow">{day(o.created_at || o.submitted_at)}<small class="muted">{t(`app.order.status.${o.status}`)} · {t('app.order.lines', { count: (o.lines || []).length })}</small></span><b>{money(o.total ?? orderTotal(o.lines || []), o.currency)}</b></a></li>
      )} />
      <ListCard title={t('app.customer.tasks')} rows={tasks} empty={t('app.today.no_tasks')} row={(x) => (
        <li class="row" data-testid="task-row"><span class="grow">{x.title}<small class="muted">{x.due_at ? day(x.due_at) : ''}</small></span></li>
      )} />
    </Screen>
  )
}
