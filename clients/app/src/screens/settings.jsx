/* Settings: language, storage, sign out (with a warning when changes are waiting). */
import { useState } from 'preact/hooks'
import { t, LANGUAGES, LANGUAGE_NAMES, lang, setLanguage, number } from '../i18n.js'
import { client, state, changed, useData, go } from '../store.js'
import { Screen } from '../ui.jsx'

export function Settings() {
  const [confirm, setConfirm] = useState(false)
  const estimate = useData(async () => (navigator.storage?.estimate ? navigator.storage.estimate() : null))
  async function signOut() {
    if (state.outbox > 0 && !confirm) { setConfirm(true); return }
    await client.signOut()
    changed({ sessionEnded: null })
    go('/login')
  }
  return (
    <Screen title={t('app.nav.settings')} back testid="settings">
      <section class="card">
        <p><b>{client.user?.name}</b><br /><small class="muted">{client.user?.email}</small></p>
        <label class="field"><span>{t('header.language')}</span>
          <select value={lang} onChange={async (e) => { await setLanguage(e.target.value); changed() }} data-testid="language">
            {LANGUAGES.map((code) => <option value={code}>{LANGUAGE_NAMES[code]}</option>)}
          </select></label>
      </section>
      <section class="card">
        <h2>{t('app.settings.storage')}</h2>
        <p data-testid="storage-persisted">{state.persisted ? t('app.settings.persisted') : t('app.settings.not_persisted')}</p>
        {estimate && <p class="muted">{t('app.settings.usage', { used: number(estimate.usage / 1048576, 1), quota: number(estimate.quota / 1048576, 0) })}</p>}
        {state.storageFull && <p class="error">{t('app.banner.storage_full')}</p>}
      </section>
      <section class="card">
        {confirm && <p class="banner danger" role="alert" data-testid="sign-out-warning">{t('app.settings.sign_out_warning', { count: state.outbox })}</p>}
        <button class={confirm ? 'danger wide' : 'wide'} onClick={signOut} data-testid="sign-out">{confirm ? t('app.settings.sign_out_anyway') : t('header.sign_out')}</button>
        {confirm && <button class="wide" onClick={() => setConfirm(false)}>{t('common.cancel')}</button>}
      </section>
      <p class="muted center">fieldsync Field · {__APP_VERSION__}</p>
    </Screen>
  )
}
