/* The service worker (Workbox, precaching the app shell) and the "new version" prompt. */
import { registerSW } from 'virtual:pwa-register'
import { changed } from './store.js'

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return
  const update = registerSW({
    immediate: true,
    onNeedRefresh() {
      changed({ needRefresh: () => update(true) })
    },
  })
}
