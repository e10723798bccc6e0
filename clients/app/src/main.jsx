import { render } from 'preact'
import './style.css'
import { App } from './app.jsx'
import { initialLanguage, setLanguage } from './i18n.js'
import { registerServiceWorker } from './pwa.js'
import { start } from './store.js'

async function boot() {
  await setLanguage(initialLanguage())
  await start()
  const root = document.getElementById('app')
  root.textContent = '' // the boot line
  render(<App />, root)
  document.body.dataset.ready = 'true'
}

registerServiceWorker()
boot().catch((error) => {
  console.error(error)
  document.getElementById('app').textContent = `fieldsync Field could not start: ${error?.message || error}`
})
