// The shared order-total vectors (clients/vectors/order_totals.json), which
// tests/unit/domain/test_order_total_vectors.py checks against the server's own function.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { orderTotal } from '@fieldsync/client'

const vectors = JSON.parse(readFileSync(new URL('../../vectors/order_totals.json', import.meta.url), 'utf8'))

test('there are at least 20 vectors', () => {
  assert.ok(vectors.cases.length >= 20, `${vectors.cases.length} vectors`)
})

for (const { name, lines, total } of vectors.cases) {
  test(`order total: ${name}`, () => {
    assert.equal(orderTotal(lines), total)
  })
}

test('no lines, null or undefined lines give 0.00', () => {
  assert.equal(orderTotal([]), '0.00')
  assert.equal(orderTotal(null), '0.00')
  assert.equal(orderTotal(undefined), '0.00')
})

test('floats would be wrong where decimal.js is right', () => {
  // 1.005 is 1.00499999999999989… as a binary double: toFixed(2) gives 1.00.
  assert.equal((1.005).toFixed(2), '1.00')
  assert.equal(orderTotal([{ quantity: '1', unit_price: '1.005' }]), '1.01')
})
