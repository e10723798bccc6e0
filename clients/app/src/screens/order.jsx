/* An order: catalogue search, quantities, catalogue prices and a live exact total (the SDK's
 * orderTotal, the server's formula), save a draft or submit; submitted orders are read-only. */
import { useState } from 'preact/hooks'
import { orderTotal, lineTotal } from '@fieldsync/client'
import { t, money, day } from '../i18n.js'
import { client, useData, write, go, me } from '../store.js'
import { Screen, Empty, Loading } from '../ui.jsx'

const clean = (q) => {
  const s = String(q).replace(',', '.').trim()
  return /^\d{1,9}(\.\d{1,3})?$/.test(s) ? s.replace(/^0+(?=\d)/, '') : null
}

export function OrderScreen({ id, customerId, visitId }) {
  const isNew = id === 'new'
  const data = useData(async () => {
    const order = isNew ? null : await client.get('orders', id)
    const products = (await client.all('products')).filter((p) => p.active !== false)
    products.sort((a, b) => a.name.localeCompare(b.name))
    const customer = await client.get('customers', order?.customer_id || customerId)
    return { order, products, customer }
  }, [id])
  const [quantities, setQuantities] = useState(null) // {product_id: '2'} while editing
  const [q, setQ] = useState('')
  const [found, setFound] = useState(null)
  const [busy, setBusy] = useState(false)
  const [failed, setFailed] = useState(false)
  if (data === undefined) return <Screen title={t('app.order.title')} back testid="order"><Loading /></Screen>
  const { order, products, customer } = data
  if (!isNew && !order) return <Screen title={t('app.order.title')} back testid="order"><Empty>{t('app.customer.gone')}</Empty></Screen>
  const byId = new Map(products.map((p) => [p.id, p]))
  const readOnly = order && order.status !== 'draft'
  const qty = quantities ?? Object.fromEntries((order?.lines || []).map((l) => [l.product_id, l.quantity]))
  const lines = Object.entries(qty).filter(([pid, n]) => clean(n) && Number(clean(n)) > 0 && byId.has(pid)).map(([pid, n]) => {
    const line = (order?.lines || []).find((l) => l.product_id === pid)
    // Catalogue price (price lists and promotions come later); a saved line keeps its price.
    return { product_id: pid, quantity: clean(n), unit_price: line?.unit_price ?? byId.get(pid).unit_price, discount_pct: line?.discount_pct ?? null }
  })
  const total = orderTotal(lines)
  const currency = order?.currency || products[0]?.currency || 'VND'
  const set = (pid, value) => setQuantities({ ...qty, [pid]: value })
  const step = (pid, delta) => set(pid, String(Math.max(0, Math.floor(Number(clean(qty[pid] || '0') || 0)) + delta)))
  async function search(value) {
    setQ(value)
    setFound(value.trim() ? (await client.search('products', value, { limit: 50 })).map((p) => p.id) : null)
  }
  async function save(status) {
    setBusy(true)
    try {
      const fields = { lines, status, currency }
      if (order) await write((c) => c.update('orders', order.id, fields))
      else await write((c) => c.create('orders', { ...fields, customer_id: customer.id, visit_id: visitId || null, rep_id: me() }))
      go(`/customer/${customer.id}`)
    } catch {
      setFailed(true)
    } finally { setBusy(false) }
  }
  const shown = readOnly ? lines.map((l) => byId.get(l.product_id)).filter(Boolean) : products.filter((p) => !found || found.includes(p.id))
  const inOrder = (p) => Number(clean(qty[p.id] || '0') || 0) > 0
  shown.sort((a, b) => Number(inOrder(b)) - Number(inOrder(a)))
  return (
    <Screen title={`${t('app.order.title')} · ${customer?.name || ''}`} back testid="order">
      {order && <p class="card"><span class={`tag ${order.status}`} data-testid="order-status">{t(`app.order.status.${order.status}`)}</span>{order.submitted_at ? ` · ${day(order.submitted_at)}` : ''}{readOnly ? ` · ${t('app.order.read_only')}` : ''}</p>}
      {!readOnly && (
        <div class="searchbar"><input type="search" value={q} onInput={(e) => search(e.target.value)} placeholder={t('app.order.search')} aria-label={t('app.order.search')} data-testid="product-search" /></div>
      )}
      <ul class="list products" data-testid="product-list">
        {shown.slice(0, 60).map((p) => {
          const line = lines.find((l) => l.product_id === p.id)
          return (
            <li class={`row product ${line ? 'picked' : ''}`} data-testid="product-row">
              <span class="grow"><b>{p.name}</b><small class="muted">{p.sku} · {money(line?.unit_price ?? p.unit_price, p.currency)}{line ? ` · ${money(lineTotal(line).toFixed(2), p.currency)}` : ''}</small></span>
              {readOnly ? <b>× {line?.quantity}</b> : (
                <span class="stepper">
                  <button type="button" aria-label={t('app.order.less')} onClick={() => step(p.id, -1)}>−</button>
                  <input inputMode="decimal" aria-label={t('app.order.quantity', { name: p.name })} value={qty[p.id] || ''} placeholder="0" onInput={(e) => set(p.id, e.target.value)} data-testid="qty" />
                  <button type="button" aria-label={t('app.order.more')} onClick={() => step(p.id, 1)} data-testid="qty-plus">+</button>
                </span>
              )}
            </li>
          )
        })}
      </ul>
      <div class="order-foot">
      <div class="totalbar">
        <span>{t('app.order.lines', { count: lines.length })}</span>
        <b data-testid="order-total" data-value={total}>{money(total, currency)}</b>
      </div>
      {failed && <p class="error" role="alert">{t('app.save_failed')}</p>}
      {!readOnly && (
        <div class="actions">
          <button onClick={() => save('draft')} disabled={busy || !lines.length} data-testid="order-draft">{t('app.order.save_draft')}</button>
          <button class="primary" onClick={() => save('submitted')} disabled={busy || !lines.length} data-testid="order-submit">{t('app.order.submit')}</button>
        </div>
      )}
      </div>
    </Screen>
  )
}
