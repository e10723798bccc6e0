import { useState } from 'preact/hooks'
import { t, LANGUAGES, LANGUAGE_NAMES, lang, setLanguage } from '../i18n.js'
import { client, signIn, state, changed, go } from '../store.js'

export function Login() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState(null)
  async function submit(event) {
    event.preventDefault()
    const form = new FormData(event.target)
    setBusy(true)
    setError(null)
    try {
      await signIn(String(form.get('email')).trim(), String(form.get('password')))
      go('/today')
      changed()
    } catch (e) {
      if (client.user) { go('/today'); return } // signed in; the first sync failed: Sync says why
      const code = e?.code
      setError(code === 'invalid_credentials' ? t('app.login.failed') : code === 'network' ? t('app.login.offline') : code === 'rate_limited' ? t('app.login.rate_limited') : `${t('app.login.error')} (${code || e?.message})`)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="screen login" data-testid="screen-login">
      <main>
        <h1 class="logo">fieldsync Field</h1>
        {state.wiped && <p class="banner danger" role="alert" data-testid="wiped">{t('app.login.wiped')}</p>}
        {state.sessionEnded && !state.wiped && <p class="banner info" data-testid="session-ended">{t('app.login.ended')}</p>}
        <form onSubmit={submit} class="card">
          <label class="field"><span>{t('login.email')}</span>
            <input name="email" type="email" autocomplete="username" required data-testid="login-email" /></label>
          <label class="field"><span>{t('login.password')}</span>
            <input name="password" type="password" autocomplete="current-password" required data-testid="login-password" /></label>
          {error && <p class="error" role="alert" data-testid="login-error">{error}</p>}
          <button class="primary" type="submit" disabled={busy} data-testid="login-submit">{busy ? t('app.login.loading') : t('login.submit')}</button>
        </form>
        <p class="muted">{t('app.login.intro')}</p>
        <label class="field"><span>{t('header.language')}</span>
          <select value={lang} onChange={async (e) => { await setLanguage(e.target.value); changed() }} data-testid="login-language">
            {LANGUAGES.map((code) => <option value={code}>{LANGUAGE_NAMES[code]}</option>)}
          </select></label>
      </main>
    </div>
  )
}
