/**
 * Order money, exact to the cent, with decimal.js (never binary floats): the same
 * arithmetic as the server's `domain/orders.py` `order_total`.
 * @module
 */
import Decimal from 'decimal.js'

/** A private Decimal with enough precision that no product of a line is ever rounded. */
const D = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_UP })
const HUNDRED = new D(100)

/**
 * @typedef {object} OrderLine
 * @property {string | number} quantity      decimal string such as "2.500" (numbers are read via their string form)
 * @property {string | number} unit_price    decimal string such as "33.75"
 * @property {string | number | null} [discount_pct] percent off, "0" when absent
 */

/**
 * One line's exact amount: quantity × unit_price × (100 − discount_pct) / 100, unrounded.
 * @param {OrderLine} line
 * @returns {Decimal}
 */
export function lineTotal(line) {
  const quantity = new D(String(line.quantity))
  const price = new D(String(line.unit_price))
  const discount = new D(String(line.discount_pct || 0))
  return quantity.times(price).times(HUNDRED.minus(discount)).dividedBy(HUNDRED)
}

/**
 * The order's total as the server computes it: the sum of the lines, rounded half-up
 * to the cent once, at the end. Always two decimals ("0.00" for no lines).
 * @param {OrderLine[] | null | undefined} lines
 * @returns {string}
 */
export function orderTotal(lines) {
  let total = new D(0)
  for (const line of lines || []) total = total.plus(lineTotal(line))
  return total.toDecimalPlaces(2, D.ROUND_HALF_UP).toFixed(2)
}
