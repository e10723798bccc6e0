/* Map: the day's route, the rep's position and customers around, on the configured tiles
 * (FIELDSYNC_MAP_TILE_URL, given by the server in a meta tag), or a plain view without tiles
 * (offline, or none configured): the same route and dots on a blank ground. */
import { useEffect, useRef, useState } from 'preact/hooks'
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import { t } from '../i18n.js'
import { client, steps, isOverdue, go, state, currentPlan } from '../store.js'
import { Screen } from '../ui.jsx'

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || ''

export function MapScreen() {
  const box = useRef(null)
  const [info, setInfo] = useState('')
  const tileUrl = meta('fieldsync-tile-url')
  useEffect(() => {
    const map = L.map(box.current, { zoomControl: true, attributionControl: true, preferCanvas: true, zoomSnap: 0.25 })
    let watch = null
    let alive = true
    let tiles = null
    if (tileUrl && state.online) {
      tiles = L.tileLayer(tileUrl, { maxZoom: 19, attribution: meta('fieldsync-tile-attribution'), referrerPolicy: 'strict-origin-when-cross-origin' }).addTo(map)
    }
    ;(async () => {
      const plan = await currentPlan()
      const customers = await client.all('customers')
      if (!alive) return
      const planned = new Set(steps(plan).map((s) => s.customer_id))
      const bounds = []
      for (const c of customers) {
        if (c.lat == null || planned.has(c.id)) continue
        L.circleMarker([c.lat, c.lon], { radius: 4, color: '#333', weight: 1, fillColor: isOverdue(c) ? '#d9480f' : '#868e96', fillOpacity: 0.8 })
          .on('click', () => go(`/customer/${c.id}`)).addTo(map).bindTooltip(c.name)
      }
      if (plan) {
        const line = plan.geometry?.coordinates?.map(([lon, lat]) => [lat, lon]) || []
        if (line.length) L.polyline(line, { color: '#0b3d91', weight: 5 }).addTo(map)
        let n = 0
        for (const s of steps(plan)) {
          if (s.kind !== 'visit' || s.lat == null) continue
          n += 1
          const marker = L.marker([s.lat, s.lon], { icon: L.divIcon({ className: 'stop-pin', html: `<span>${n}</span>`, iconSize: [30, 30] }) })
          marker.on('click', () => go(`/customer/${s.customer_id}`)).addTo(map)
          bounds.push([s.lat, s.lon])
        }
        bounds.push([plan.start_lat, plan.start_lon])
      }
      if (!bounds.length) for (const c of customers.slice(0, 200)) if (c.lat != null) bounds.push([c.lat, c.lon])
      map.invalidateSize()
      if (bounds.length) map.fitBounds(bounds, { padding: [16, 16] })
      else map.setView([0, 0], 2)
      setInfo(tiles ? '' : t(tileUrl ? 'app.map.plain_offline' : 'app.map.plain'))
    })()
    if (navigator.geolocation) {
      let me = null
      watch = navigator.geolocation.watchPosition((p) => {
        const at = [p.coords.latitude, p.coords.longitude]
        if (!me) me = L.circleMarker(at, { radius: 9, color: '#fff', weight: 3, fillColor: '#1971c2', fillOpacity: 1 }).addTo(map).bindTooltip(t('app.map.you'))
        else me.setLatLng(at)
      }, () => {}, { enableHighAccuracy: true, maximumAge: 10000 })
    }
    return () => { alive = false; if (watch != null) navigator.geolocation.clearWatch(watch); map.remove() }
  }, [])
  return (
    <Screen title={t('app.nav.map')} testid="map">
      {info && <p class="muted mapinfo" data-testid="map-plain">{info}</p>}
      <div ref={box} class={`map ${tileUrl && state.online ? '' : 'plain'}`} data-testid="map" aria-label={t('app.map.label')} />
      <p class="legend"><span class="dot route" /> {t('app.map.route')} <span class="dot late" /> {t('app.customers.overdue')} <span class="dot other" /> {t('app.map.others')}</p>
    </Screen>
  )
}
