/* Tasks: overdue, today, upcoming (and undated); complete one. A new task for a customer. */
import { useState } from 'preact/hooks'
import { t, day } from '../i18n.js'
import { client, useData, write, go, today, dayOf } from '../store.js'
import { Screen, Loading, Field, ListCard, formText } from '../ui.jsx'

export function Tasks() {
  const data = useData(async () => {
    const date = today()
    const tasks = (await client.all('tasks')).filter((x) => !x.done && x.assignee_id === client.user.id)
    tasks.sort((a, b) => ((a.due_at || '9999') < (b.due_at || '9999') ? -1 : 1))
    const names = new Map((await client.all('customers')).map((c) => [c.id, c.name]))
    const local = (x) => dayOf(x.due_at)
    return {
      names,
      groups: [
        ['overdue', tasks.filter((x) => local(x) && local(x) < date)],
        ['today', tasks.filter((x) => local(x) === date)],
        ['upcoming', tasks.filter((x) => !local(x) || local(x) > date)],
      ],
    }
  })
  return (
    <Screen title={t('app.tasks.title')} testid="tasks">
      {data === undefined ? <Loading /> : data.groups.map(([name, rows]) => (
        <ListCard testid={`tasks-${name}`} title={<>{t(`app.tasks.${name}`)} <small class="muted">({rows.length})</small></>} rows={rows.slice(0, 50)} empty={t('app.today.no_tasks')} row={(x) => (
          <li class="row"><label class="check grow">
            <input type="checkbox" onChange={() => write((c) => c.update('tasks', x.id, { done: true })).catch(() => {})} data-testid="task-done" aria-label={t('app.tasks.complete', { title: x.title })} />
            <span>{x.title}<small class="muted">{data.names.get(x.customer_id)}{x.due_at ? ` · ${day(x.due_at)}` : ''}</small></span>
          </label></li>
        )}>
          {rows.length > 50 && <p class="muted">{t('app.customers.more', { count: rows.length - 50 })}</p>}
        </ListCard>
      ))}
    </Screen>
  )
}

export function NewTask({ customerId }) {
  const customer = useData(() => client.get('customers', customerId), [customerId])
  const [failed, setFailed] = useState(false)
  async function save(event) {
    event.preventDefault()
    const form = new FormData(event.target)
    const due = String(form.get('due') || '')
    setFailed(false)
    try {
      await write((c) => c.create('tasks', {
      customer_id: customerId,
      assignee_id: client.user.id,
      title: String(form.get('title')).trim(),
      notes: formText(form, 'notes'),
      due_at: due ? new Date(`${due}T09:00:00`).toISOString() : null,
      }))
      go(`/customer/${customerId}`)
    } catch {
      setFailed(true) // kept on screen: nothing typed is lost (a full disk has its banner)
    }
  }
  return (
    <Screen title={t('app.task.new')} back testid="task">
      <form class="card" onSubmit={save}>
        <p><b>{customer?.name}</b></p>
        <Field label={t('app.task.title')}><input name="title" required maxLength={200} data-testid="task-title" /></Field>
        <Field label={t('app.task.due')}><input name="due" type="date" data-testid="task-due" /></Field>
        <Field label={t('app.visit.notes')}><textarea name="notes" rows={2} /></Field>
        {failed && <p class="error" role="alert" data-testid="save-failed">{t('app.save_failed')}</p>}
        <button class="primary wide" type="submit" data-testid="task-save">{t('common.save')}</button>
      </form>
    </Screen>
  )
}
