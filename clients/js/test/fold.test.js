// fold() gives what the server's domain/text.py fold() gives (clients/vectors/fold.json).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fold, searchKey } from '@fieldsync/client'

const vectors = JSON.parse(readFileSync(new URL('../../vectors/fold.json', import.meta.url), 'utf8'))

for (const { text, folded } of vectors.cases) {
  test(`fold ${JSON.stringify(text)}`, () => {
    assert.equal(fold(text), folded)
  })
}

test('fold of null and undefined is empty', () => {
  assert.equal(fold(null), '')
  assert.equal(fold(undefined), '')
})

test('searchKey joins the folded searchable fields with a bar', () => {
  assert.equal(searchKey('customers', { name: 'Tạp hóa Hồng', city: 'Hà Nội', phone: null, tier: 'A' }),
    'tap hoa hong|ha noi')
  assert.equal(searchKey('visits', { notes: 'x' }), '')
})
