// Compressed request bodies (src/compression.js): gzip from a threshold up where the
// platform has CompressionStream, plain text otherwise; a SyncClient's large pushes go
// compressed and are understood (the FakeServer decodes them as the server does).
import assert from 'node:assert/strict'
import { gunzipSync } from 'node:zlib'
import { describe, test } from 'node:test'
import { COMPRESS_ABOVE, MemoryStorage, SyncClient, encodeBody } from '@fieldsync/client'
import { FakeServer } from './support/fake-server.js'

const large = JSON.stringify({ mutations: Array.from({ length: 50 }, (_, i) => ({ id: `m-${i}`, name: 'Tạp hóa Cô Ba' })) })

describe('encodeBody', () => {
  test('a body from the threshold up is gzip, and says so', async () => {
    assert.ok(Buffer.byteLength(large) >= COMPRESS_ABOVE)
    const headers = {}
    const body = await encodeBody(large, headers)
    assert.ok(body instanceof Uint8Array)
    assert.equal(headers['Content-Encoding'], 'gzip')
    assert.ok(body.length < Buffer.byteLength(large) / 4, `${body.length} bytes`)
    assert.equal(gunzipSync(body).toString('utf8'), large) // UTF-8 kept
  })

  test('a small body, or compression off, goes as it is', async () => {
    const headers = {}
    assert.equal(await encodeBody('{"email":"a@b.c"}', headers), '{"email":"a@b.c"}')
    assert.equal(await encodeBody(large, headers, false), large)
    assert.deepEqual(headers, {})
  })

  test('without CompressionStream (React Native) the body goes as it is', async () => {
    const saved = globalThis.CompressionStream
    try {
      delete globalThis.CompressionStream
      const headers = {}
      assert.equal(await encodeBody(large, headers), large)
      assert.deepEqual(headers, {})
    } finally {
      globalThis.CompressionStream = saved
    }
  })
})

async function signedIn(options = {}) {
  const server = new FakeServer()
  const client = new SyncClient({
    baseUrl: 'http://fieldsync.test', storage: new MemoryStorage(), fetch: server.fetch,
    sleep: async () => {}, ...options,
  })
  await client.signIn('rep@example.com', 'pw')
  return { server, client }
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/v1/sync/push')

describe('SyncClient pushes', () => {
  test('a large push is sent gzip, a small one plain, and both are applied', async () => {
    const { server, client } = await signedIn()
    await client.create('customers', { name: 'Một' })
    await client.sync()
    for (let i = 0; i < 30; i++) await client.create('customers', { name: `Tạp hóa số ${i}`, notes: 'x'.repeat(40) })
    await client.sync()
    const [small, big] = pushes(server)
    assert.equal(small.encoding, null)
    assert.equal(big.encoding, 'gzip')
    assert.equal(big.body.mutations.length, 30)
    assert.equal(server.tables.get('customers').size, 31)
    assert.equal(client.status.outboxSize, 0)
  })

  test('compressAbove: false sends every push plain', async () => {
    const { server, client } = await signedIn({ compressAbove: false })
    for (let i = 0; i < 30; i++) await client.create('customers', { name: `Tạp hóa số ${i}`, notes: 'x'.repeat(40) })
    await client.sync()
    assert.equal(pushes(server)[0].encoding, null)
  })
})
