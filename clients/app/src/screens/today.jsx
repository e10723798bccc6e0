/* Today: the route plan's timeline (visits and the lunch break as steps), tasks due today,
 * customers overdue and not on the plan; navigation links; re-plan from here when online. */
import { useEffect, useState } from 'preact/hooks'
import { t, time, timeRange, day, km, minutes } from '../i18n.js'
import { client, useData, today, dayOf, steps, isOverdue, state, write, changed, currentPlan } from '../store.js'
import { position } from '../geo.js'
import { Screen, Empty, Loading, ListCard } from '../ui.jsx'

async function load() {
  const date = today()
  const plan = await currentPlan(date) // an earlier plan is shown marked with its date
  const customers = await client.all('customers')
  const byId = new Map(customers.map((c) => [c.id, c]))
  const tasks = (await client.all('tasks')).filter((x) => !x.done && x.assignee_id === client.user.id && x.due_at && dayOf(x.due_at) <= date)
  const planned = new Set(steps(plan).map((s) => s.customer_id))
  const visits = await client.all('visits')
  const visitedToday = new Set(visits.filter((v) => dayOf(v.check_in_at) === date).map((v) => v.customer_id))
  const overdue = customers.filter((c) => c.owner_id === client.user.id && !planned.has(c.id) && isOverdue(c))
  overdue.sort((a, b) => (a.last_visit_at || '') < (b.last_visit_at || '') ? -1 : 1)
  return { plan, date, byId, tasks, overdue, visitedToday }
}

function mapsLink(stopsLeft) {
  // Up to 9 waypoints per Google link: the next stops are what the rep needs now.
  const next = stopsLeft.slice(0, 9)
  if (!next.length) return null
  const dest = next[next.length - 1]
  const way = next.slice(0, -1).map((s) => `${s.lat},${s.lon}`).join('|')
  const google = `https://www.google.com/maps/dir/?api=1&destination=${dest.lat},${dest.lon}&travelmode=driving${way ? `&waypoints=${encodeURIComponent(way)}` : ''}`
  const apple = `https://maps.apple.com/?daddr=${next.map((s) => `${s.lat},${s.lon}`).join('+to:')}&dirflg=d`
  return { google, apple }
}

export function Today() {
  const data = useData(load)
  const [replan, setReplan] = useState(null)
  useEffect(() => {
    // The first Today drawn with its data: how long a start takes (bench/app_bench.py).
    if (data && !performance.getEntriesByName('fieldsync:today').length) performance.mark('fieldsync:today')
  }, [data])
  if (!data) return <Screen title={t('app.today.title')} testid="today"><Loading /></Screen>
  const { plan, date, byId, tasks, overdue, visitedToday } = data
  const timeline = steps(plan)
  const tz = plan?.timezone
  const left = timeline.filter((s) => s.kind === 'visit' && !s.completed && !visitedToday.has(s.customer_id))
  const links = plan && mapsLink(left)
  async function reoptimize() {
    setReplan('busy')
    try {
      const here = await position()
      const completed = timeline.filter((s) => s.kind === 'visit' && (s.completed || visitedToday.has(s.customer_id))).map((s) => s.customer_id)
      await client.sync()
      const res = await client.request('POST', `/api/v1/route-plans/${plan.id}/reoptimize`, { body: { lat: here.lat, lon: here.lon, completed_customer_ids: completed } })
      if (res.status !== 200) throw new Error(res.body?.error?.message || String(res.status))
      await client.sync()
      setReplan('done')
    } catch (e) {
      setReplan(`error:${e?.message || e}`)
    }
    changed()
  }
  return (
    <Screen title={t('app.today.title')} testid="today">
      <section class="card">
        <h2>{t('app.today.plan')}{plan && plan.plan_date !== date ? <small class="muted" data-testid="plan-date"> · {day(plan.plan_date)}</small> : null}</h2>
        {!plan && <Empty>{t('app.today.no_plan')}</Empty>}
        {plan && plan.plan_date !== date && <p class="muted">{t('app.today.not_today', { date: day(plan.plan_date) })}</p>}
        {plan && (
          <p class="summary" data-testid="plan-summary">
            {t('app.today.summary', { stops: timeline.filter((s) => s.kind === 'visit').length, distance: km(plan.total_distance_m), start: time(plan.start_at, tz), end: time(plan.end_at, tz) })}
          </p>
        )}
        {plan && (
          <ol class="timeline" data-testid="timeline">
            {timeline.map((s, i) => s.kind === 'lunch' ? (
              <li class="step lunch" data-testid="step-lunch">
                <span class="when">{timeRange(s.arrival_at, s.departure_at, tz)}</span>
                <span class="what">☕ {t('app.today.lunch')}</span>
                <span class="muted">{minutes(s.service_s)}{s.distance_m ? ` · ${km(s.distance_m)}` : ''}</span>
              </li>
            ) : (
              <li class={`step ${s.completed || visitedToday.has(s.customer_id) ? 'done' : ''}`} data-testid="step-visit">
                <span class="when">{timeRange(s.arrival_at, s.departure_at, tz)}</span>
                <a class="what" href={`#/customer/${s.customer_id}`}><span>{i + 1 - timeline.slice(0, i).filter((x) => x.kind === 'lunch').length}.</span><bdi>{byId.get(s.customer_id)?.name || s.name}</bdi></a>
                <span class="muted">{km(s.distance_m)} · {minutes(s.travel_s)}{s.waiting_s ? ` · ${t('app.today.wait', { min: Math.round(s.waiting_s / 60) })}` : ''}</span>
              </li>
            ))}
          </ol>
        )}
        {plan && (
          <div class="actions">
            {links && <a class="button" href={links.google} target="_blank" rel="noopener noreferrer" data-testid="nav-google">{t('app.today.navigate_google')}</a>}
            {links && <a class="button" href={links.apple} target="_blank" rel="noopener noreferrer">{t('app.today.navigate_apple')}</a>}
            <button onClick={reoptimize} disabled={!state.online || replan === 'busy'} data-testid="replan">{replan === 'busy' ? t('app.loading') : t('app.today.replan')}</button>
          </div>
        )}
        {!state.online && plan && <p class="muted">{t('app.today.replan_offline')}</p>}
        {replan === 'done' && <p class="ok">{t('app.today.replanned')}</p>}
        {replan?.startsWith?.('error:') && <p class="error">{t('app.today.replan_failed')}</p>}
      </section>
      <ListCard title={t('app.today.tasks')} rows={tasks.slice(0, 20)} empty={t('app.today.no_tasks')} row={(task) => (
        <li><label class="check">
          <input type="checkbox" onChange={() => write((c) => c.update('tasks', task.id, { done: true })).catch(() => {})} />
          <span>{task.title}<small class="muted"> · {byId.get(task.customer_id)?.name} · {day(task.due_at)}</small></span>
        </label></li>
      )} />
      <ListCard title={<>{t('app.today.overdue')} <small class="muted">({overdue.length})</small></>} rows={overdue.slice(0, 10)} empty={t('app.today.no_overdue')} row={(c) => (
        <li><a class="row" href={`#/customer/${c.id}`}><span>{c.name}</span><small class="muted">{c.last_visit_at ? day(c.last_visit_at) : t('app.customer.never')}</small></a></li>
      )}>
        {overdue.length > 10 && <a class="button" href="#/customers?overdue=1">{t('app.today.all_overdue')}</a>}
      </ListCard>
    </Screen>
  )
}
