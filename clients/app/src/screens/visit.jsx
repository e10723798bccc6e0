/* A visit: where the check-in was (and, after sync, whether the server verified it),
 * outcome, notes, the next step (a task), check out. */
import { useState } from 'preact/hooks'
import { t, dateTime, number } from '../i18n.js'
import { client, useData, write, go, nowIso, isOpen } from '../store.js'
import { position } from '../geo.js'
import { Screen, Empty, Loading, Field, verification, checkStatus, formText } from '../ui.jsx'

const OUTCOMES = ['order', 'no_order', 'follow_up', 'not_available', 'closed']

export function VisitScreen({ id }) {
  const data = useData(async () => {
    const visit = await client.get('visits', id)
    if (!visit) return null
    return { visit, customer: await client.get('customers', visit.customer_id) }
  }, [id])
  const [outcome, setOutcome] = useState(null)
  const [busy, setBusy] = useState(false)
  const [failed, setFailed] = useState(false)
  if (data === undefined) return <Screen title="…" back testid="visit"><Loading /></Screen>
  if (data === null) return <Screen title={t('app.visit.title')} back testid="visit"><Empty>{t('app.customer.gone')}</Empty></Screen>
  const { visit: v, customer } = data
  const chosen = outcome ?? v.outcome
  const open = isOpen(v)
  const mine = v.rep_id === client.user.id
  async function finish(event, checkOut) {
    event.preventDefault()
    const form = new FormData(event.target.form || event.target)
    setBusy(true)
    const fields = { notes: formText(form, 'notes') }
    if (chosen) fields.outcome = chosen
    if (checkOut) {
      let fix = null
      try { fix = await position() } catch { /* checked out without a fix */ }
      Object.assign(fields, { check_out_at: nowIso(), status: 'completed' })
      if (fix) Object.assign(fields, { check_out_lat: fix.lat, check_out_lon: fix.lon, check_out_accuracy_m: fix.accuracy_m })
    }
    const next = String(form.get('next_step') || '').trim()
    const due = String(form.get('next_due') || '')
    try {
      await write(async (c) => {
        await c.update('visits', v.id, fields)
        if (next) {
          await c.create('tasks', { customer_id: v.customer_id, assignee_id: client.user.id, title: next, due_at: due ? new Date(`${due}T09:00:00`).toISOString() : null })
        }
      })
      if (checkOut) go(`/customer/${v.customer_id}`)
    } catch {
      setFailed(true)
    } finally { setBusy(false) }
  }
  return (
    <Screen title={customer?.name || t('app.visit.title')} back testid="visit">
      <section class="card">
        <h2>{t('app.visit.title')}</h2>
        <p data-testid="visit-check-in">{t('app.visit.checked_in', { at: dateTime(v.check_in_at) })}
          {v.check_in_accuracy_m != null ? ` · ${t('app.geo.accuracy', { m: number(v.check_in_accuracy_m) })}` : ` · ${t('app.visit.no_fix')}`}</p>
        <p>{verification(v)}</p>
        <p class="muted">{t(`app.check.help.${checkStatus(v)}`)}</p>
        {v.check_out_at && <p>{t('app.visit.checked_out', { at: dateTime(v.check_out_at) })}</p>}
      </section>
      <form class="card" onSubmit={(e) => finish(e, false)}>
        <fieldset class="outcomes" disabled={!mine}>
          <legend>{t('app.visit.outcome')}</legend>
          {OUTCOMES.map((o) => (
            <button type="button" class={chosen === o ? 'chip on' : 'chip'} aria-pressed={chosen === o} onClick={() => setOutcome(o)} data-testid={`outcome-${o}`}>{t(`app.visit.outcome.${o}`)}</button>
          ))}
        </fieldset>
        <Field label={t('app.visit.notes')}><textarea name="notes" rows={3} defaultValue={v.notes || ''} disabled={!mine} data-testid="visit-notes" /></Field>
        <Field label={t('app.visit.next_step')}><input name="next_step" maxLength={200} placeholder={t('app.visit.next_step_hint')} disabled={!mine} data-testid="next-step" /></Field>
        <Field label={t('app.task.due')}><input name="next_due" type="date" disabled={!mine} data-testid="next-due" /></Field>
        <div class="actions">
          <a class="button" href={`#/order/new?customer=${v.customer_id}&visit=${v.id}`} data-testid="visit-order">{t('app.order.new')}</a>
          <button type="submit" disabled={busy || !mine} data-testid="visit-save">{t('common.save')}</button>
        </div>
        {failed && <p class="error" role="alert">{t('app.save_failed')}</p>}
        {open && mine && <button class="primary wide" type="button" disabled={busy} onClick={(e) => finish(e, true)} data-testid="check-out">{t('app.visit.check_out')}</button>}
      </form>
    </Screen>
  )
}
