/* The service worker (Workbox, precaching the app shell) and the "new version" prompt. */
import { registerSW } from 'virtual:pwa-register'
import { changed } from './store.js'

export function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return
  const update = registerSW({
    immediate: true,
    onNeedRefresh() {
      // Waits for the rep: a screen is never swapped in the middle of an order.
      changed({
        needRefresh: () => {
          // Reload once the new worker controls the page (workbox-window does not for an
          // update it sees as "external", e.g. found by the browser's own update check).
          navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true })
          update(true)
        },
      })
    },
  })
}
