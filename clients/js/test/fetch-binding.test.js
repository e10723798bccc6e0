// A fetch that needs its `this` to be the global object (as a browser's does) works as
// the default: the client calls it unbound.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MemoryStorage, SyncClient } from '@fieldsync/client'
import { FakeServer } from './support/fake-server.js'

test('fetch is called without the client as its this', async () => {
  const server = new FakeServer()
  function strictFetch(url, init) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation')
    return server.fetch(url, init)
  }
  const client = new SyncClient({ baseUrl: 'http://x', storage: new MemoryStorage(), fetch: strictFetch })
  await client.signIn('a@b.c', 'pw')
  assert.deepEqual(await client.sync(), { pushed: 0, pulled: 0 })
})
