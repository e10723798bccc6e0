/* Hash routes (the service worker serves one index.html for every screen). */
import { lazy, Suspense } from 'preact/compat'
import { useEffect, useState } from 'preact/hooks'
import { client, useRevision, state } from './store.js'
import { Login } from './screens/login.jsx'
import { Today } from './screens/today.jsx'
import { Customers, Prospect } from './screens/customers.jsx'
import { CustomerCard } from './screens/customer.jsx'
import { VisitScreen } from './screens/visit.jsx'
import { OrderScreen } from './screens/order.jsx'
import { Tasks, NewTask } from './screens/tasks.jsx'
import { SyncScreen } from './screens/sync.jsx'
import { Settings } from './screens/settings.jsx'
import { Loading } from './ui.jsx'

// Leaflet is loaded only when the map opens (it is precached all the same).
const MapScreen = lazy(() => import('./screens/map.jsx').then((m) => ({ default: m.MapScreen })))

function useHash() {
  const [hash, setHash] = useState(location.hash)
  useEffect(() => {
    const on = () => { setHash(location.hash); window.scrollTo(0, 0) }
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return hash
}

export function App() {
  useRevision()
  const hash = useHash()
  const [path, query = ''] = hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter(Boolean)
  const params = new URLSearchParams(query)
  if (!client.user || parts[0] === 'login' || state.wiped || state.signingIn) return <Login />
  switch (parts[0]) {
    case 'map': return <Suspense fallback={<Loading />}><MapScreen /></Suspense>
    case 'customers': return <Customers />
    case 'prospect': return <Prospect />
    case 'customer': return <CustomerCard id={parts[1]} />
    case 'visit': return <VisitScreen id={parts[1]} />
    case 'order': return <OrderScreen id={parts[1]} customerId={params.get('customer')} visitId={params.get('visit')} />
    case 'tasks': return <Tasks />
    case 'task': return <NewTask customerId={params.get('customer')} />
    case 'sync': return <SyncScreen />
    case 'settings': return <Settings />
    default: return <Today />
  }
}
