// Shared by both sides of ./bench/run sdk (sdk.js, wm.js).

/**
 * The pull requests made between t0 and t1, from the browser's resource timing: how many,
 * and the time from each request's start to its last byte summed (network and server,
 * not the decoding or the writes), measured the same way on both sides.
 */
export function pullRequests(t0, t1) {
  const pulls = performance.getEntriesByType('resource').filter((e) =>
    /\/api\/v1\/sync\/(pull|watermelon)/.test(e.name) && e.startTime >= t0 && e.responseEnd <= t1)
  return {
    count: pulls.length,
    ms: pulls.reduce((sum, e) => sum + (e.responseEnd - e.startTime), 0),
    bytes: pulls.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
  }
}
