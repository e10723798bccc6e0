/* The manager pages' message catalogue (server/web/static/i18n/*.json, keys "app.*"),
 * bundled: English at start, the others as their own chunks (precached, so offline too). */
import en from '@catalogue/en.json'

export const LANGUAGES = ['en', 'vi', 'ar', 'fa', 'ru']
export const LANGUAGE_NAMES = { en: 'English', vi: 'Tiếng Việt', ar: 'العربية', fa: 'فارسی', ru: 'Русский' }
const RTL = ['ar', 'fa']
const STORAGE_KEY = 'fieldsync.app.lang'
const others = import.meta.glob(['@catalogue/*.json', '!@catalogue/en.json'], { import: 'default' })

let strings = en
export let lang = 'en'

/** The stored choice, else the browser's first language we have, else English. */
export function initialLanguage() {
  const stored = localStorage.getItem(STORAGE_KEY)
  if (LANGUAGES.includes(stored)) return stored
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const primary = String(tag).split('-')[0].toLowerCase()
    if (LANGUAGES.includes(primary)) return primary
  }
  return 'en'
}

export async function setLanguage(code) {
  if (!LANGUAGES.includes(code)) code = 'en'
  if (code === 'en') strings = en
  else {
    const key = Object.keys(others).find((path) => path.endsWith(`/${code}.json`))
    strings = key ? await others[key]() : en
  }
  lang = code
  localStorage.setItem(STORAGE_KEY, code)
  document.documentElement.lang = code
  document.documentElement.dir = RTL.includes(code) ? 'rtl' : 'ltr'
}

/** t('app.today.title'), t('app.sync.waiting', {count: 3}); numbers in the language's digits.
 * In a right-to-left language each value is a bidi isolate (as Fluent does), so a time,
 * a distance or a Latin name keeps its place instead of reordering the sentence around it. */
export function t(key, vars) {
  let text = strings[key] ?? en[key] ?? key
  if (vars) {
    const isolate = isRtl() ? (s) => `\u2068${s}\u2069` : (s) => s
    text = text.replace(/\{(\w+)\}/g, (match, name) => {
      if (!(name in vars)) return match
      const value = vars[name]
      return isolate(typeof value === 'number' ? new Intl.NumberFormat(lang).format(value) : String(value))
    })
  }
  return text
}

/** t(key), or `fallback` when no language has the key (a server code or field the app does not name). */
export function tOr(key, fallback, vars) {
  return key in strings || key in en ? t(key, vars) : fallback
}

export const isRtl = () => RTL.includes(lang)

export function time(iso, timeZone) {
  if (!iso) return ''
  return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(iso))
}

/** "08:05–08:20" as the language writes a range (its order and dash, right to left too). */
export function timeRange(startIso, endIso, timeZone) {
  if (!startIso || !endIso) return time(startIso || endIso, timeZone)
  const format = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', timeZone })
  return format.formatRange(new Date(startIso), new Date(endIso))
}

export function dateTime(iso) {
  if (!iso) return ''
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso))
}

export function day(iso) {
  if (!iso) return ''
  const d = iso.length === 10 ? new Date(`${iso}T12:00:00`) : new Date(iso)
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(d)
}

export function number(value, digits = 0) {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value)
}

export function money(amount, currency) {
  // Exact: the SDK's decimal string is formatted as a string (no binary float), with the
  // currency's usual decimals (none for VND) unless the amount has cents.
  const value = String(amount ?? '0')
  try {
    const usual = new Intl.NumberFormat(lang, { style: 'currency', currency: currency || 'VND' })
    const digits = /\.\d*[1-9]/.test(value) ? 2 : usual.resolvedOptions().maximumFractionDigits
    return new Intl.NumberFormat(lang, { style: 'currency', currency: currency || 'VND', minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, 2) }).format(value)
  } catch {
    return `${value} ${currency || ''}`
  }
}

export function km(meters) {
  if (meters == null) return ''
  return meters < 1000 ? t('app.unit.m', { n: Math.round(meters) }) : t('app.unit.km', { n: number(meters / 1000, 1) })
}

export function minutes(seconds) {
  return t('app.unit.min', { n: Math.round((seconds || 0) / 60) })
}
