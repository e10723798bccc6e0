/**
 * A tiny event emitter (browsers and Node alike): `on(event, fn)` returns an unsubscribe
 * function; a listener that throws does not stop the others (the error is reported on
 * `console.error`).
 * @module
 */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<(payload: any) => void>>} */
    this._listeners = new Map()
  }

  /**
   * @param {string} event
   * @param {(payload: any) => void} fn
   * @returns {() => void} unsubscribe
   */
  on(event, fn) {
    let set = this._listeners.get(event)
    if (!set) this._listeners.set(event, (set = new Set()))
    set.add(fn)
    return () => this.off(event, fn)
  }

  /** @param {string} event @param {(payload: any) => void} fn */
  off(event, fn) {
    this._listeners.get(event)?.delete(fn)
  }

  /** @param {string} event @param {any} [payload] */
  emit(event, payload) {
    for (const fn of [...(this._listeners.get(event) || [])]) {
      try {
        fn(payload)
      } catch (error) {
        console.error(`fieldsync: a '${event}' listener threw`, error)
      }
    }
  }
}
