/* Sync: last successful sync, changes waiting, sync now; each conflict with both values and
 * which was kept; each rejected change with its reason. */
import { useState } from 'preact/hooks'
import { t, tOr, dateTime, number } from '../i18n.js'
import { client, useData, state, syncNow, changed } from '../store.js'
import { Screen, ListCard } from '../ui.jsx'

const show = (value) => (value === null || value === undefined || value === '' ? '—' : typeof value === 'object' ? JSON.stringify(value) : String(value))

async function label(table, id) {
  const record = id && (await client.get(table, id))
  return record?.name || record?.title || `${tOr(`app.table.${table}`, table)} ${String(id || '').slice(0, 8)}`
}

export function SyncScreen() {
  const [error, setError] = useState(null)
  const data = useData(async () => {
    const results = await client.conflicts()
    for (const r of results) r._label = await label(r.table || r.mutation?.table, r.record_id || r.mutation?.record_id || r.mutation?.id)
    const outbox = await client.outbox()
    return { conflicts: results.filter((r) => r.kind === 'conflict'), rejections: results.filter((r) => r.kind === 'rejection'), outbox }
  })
  async function run() {
    setError(null)
    try { await syncNow() } catch (e) { setError(e?.code || String(e)) }
  }
  const failure = error || state.lastError
  return (
    <Screen title={t('app.sync.title')} testid="sync">
      <section class="card">
        <p data-testid="last-sync">{t('app.sync.last')}: <b>{state.lastSyncedAt ? dateTime(state.lastSyncedAt) : t('app.sync.never')}</b></p>
        <p>{t('app.sync.waiting_label')}: <b data-testid="outbox-count">{number(state.outbox)}</b></p>
        {!state.syncing && <p class="muted" data-testid="connection">{state.online ? t('app.sync.online') : t('app.sync.offline')}</p>}
        <button class="primary wide" onClick={run} disabled={state.syncing} data-testid="sync-now">{state.syncing ? t('app.sync.running') : t('app.sync.now')}</button>
        {failure && <p class="error" data-testid="sync-error">{tOr(`app.sync.error.${failure}`, t('app.sync.error.other', { code: failure }))}</p>}
        {data?.outbox?.length > 0 && (
          <details><summary>{t('app.sync.show_waiting')}</summary>
            <ul class="list small">{data.outbox.slice(0, 50).map((m) => <li>{t(`app.sync.op.${m.op}`)} · {tOr(`app.table.${m.table}`, m.table)} · {dateTime(m.changed_at)}</li>)}</ul>
          </details>
        )}
      </section>
      <ListCard title={t('app.sync.conflicts')} rows={data?.conflicts} empty={t('app.sync.no_conflicts')} listTestid="conflicts" row={(r) => (
        <li class="conflict" data-testid="conflict">
          <p><b>{r._label}</b> · {tOr(`app.field.${r.field}`, r.field)}</p>
          <p class={r.kept === 'server' ? '' : 'kept'}>{t('app.sync.yours')}: <b data-testid="conflict-yours">{show(r.yours)}</b>{r.kept !== 'server' ? ` ✓ ${t('app.sync.kept')}` : ''}</p>
          <p class={r.kept === 'server' ? 'kept' : ''}>{t('app.sync.server')}: <b data-testid="conflict-server">{show(r.server)}</b>{r.kept === 'server' ? ` ✓ ${t('app.sync.kept')}` : ''}</p>
          <button class="small" onClick={async () => { await client.discard(r.id); changed() }}>{t('app.sync.dismiss')}</button>
        </li>
      )} />
      <ListCard title={t('app.sync.rejections')} rows={data?.rejections} empty={t('app.sync.no_rejections')} listTestid="rejections" row={(r) => (
        <li class="conflict" data-testid="rejection">
          <p><b>{t(`app.sync.op.${r.mutation?.op}`)} · {r._label}</b></p>
          <p class="error">{r.message} <small>({r.code})</small></p>
          {r.fields && <ul class="small">{Object.entries(r.fields).map(([f, m]) => <li>{tOr(`app.field.${f}`, f)}: {show(m)}</li>)}</ul>}
          <div class="actions">
            <button class="small" onClick={async () => { await client.retry(r.mutation.id); changed() }}>{t('app.sync.retry')}</button>
            <button class="small" onClick={async () => { await client.discard(r.id); changed() }}>{t('app.sync.discard')}</button>
          </div>
        </li>
      )} />
    </Screen>
  )
}
