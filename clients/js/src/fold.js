/**
 * Text folding for local search, the same as the server's `domain/text.py` `fold()`:
 * case folded, NFKD, combining marks stripped, a few letters NFKD leaves alone mapped
 * (đ ð ø ł ı, Arabic/Persian yeh and kaf, tatweel, Arabic-Indic digits), white space
 * collapsed. So "nguyen" finds "Nguyễn", "ёлка" finds "Ёлка", "STRASSE" finds "Straße".
 * @module
 */

/** @type {Record<string, string>} */
const EXTRA = {
  'đ': 'd', 'ð': 'd', 'ø': 'o', 'ł': 'l', 'ı': 'i',
  'ي': 'ی', 'ى': 'ی', 'ك': 'ک', 'ـ': '',
}
for (let i = 0; i < 10; i++) {
  EXTRA[String.fromCharCode(0x0660 + i)] = String(i)
  EXTRA[String.fromCharCode(0x06f0 + i)] = String(i)
}
const EXTRA_RE = new RegExp(`[${Object.keys(EXTRA).join('')}]`, 'gu')

/** Python's str.casefold() beyond toLowerCase(): the full case foldings that matter in text. */
/** @type {Record<string, string>} */
const CASEFOLD = { 'ß': 'ss', 'ẞ': 'ss', 'ς': 'σ', 'ſ': 's', 'ﬅ': 'st', 'ﬆ': 'st' }
const CASEFOLD_RE = /[ßẞςſﬅﬆ]/gu

/** Nonspacing and enclosing marks: what `unicodedata.combining()` strips after NFKD. */
const MARKS_RE = /[\p{Mn}\p{Me}]/gu

/**
 * Case-folded text without diacritics, with white space collapsed ('' for null/empty).
 * @param {string | null | undefined} text
 * @returns {string}
 */
export function fold(text) {
  if (!text) return ''
  const lower = String(text).toLowerCase().replace(CASEFOLD_RE, (ch) => CASEFOLD[ch])
  const stripped = lower.normalize('NFKD').replace(MARKS_RE, '')
  return stripped.replace(EXTRA_RE, (ch) => EXTRA[ch]).split(/\s+/u).filter(Boolean).join(' ')
}

/** The searchable fields per table, as on the server (`domain/models.py` `search_fields`). */
export const SEARCH_FIELDS = {
  teams: ['name'],
  users: ['name', 'email'],
  territories: ['name'],
  customers: ['name', 'address', 'city', 'postal_code', 'phone', 'email'],
  contacts: ['name', 'phone', 'email'],
  products: ['sku', 'name'],
  tasks: ['title', 'notes'],
}

/**
 * One folded string holding every searchable part of a record, separated by a bar
 * (the server's `search_key`). Tables without search fields give ''.
 * @param {string} table
 * @param {Record<string, any>} record
 * @returns {string}
 */
export function searchKey(table, record) {
  const fields = SEARCH_FIELDS[/** @type {keyof SEARCH_FIELDS} */ (table)] || []
  return fields.map((f) => record[f]).filter((v) => v).map((v) => fold(String(v))).join('|')
}
