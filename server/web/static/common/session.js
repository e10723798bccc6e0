/* The signed-in session: the token pair in sessionStorage (gone with the tab), this tab's device
 * id, one token refresh at a time (refresh tokens are single-use), and sign-out. */

const STORAGE = { session: "fieldsync.session", device: "fieldsync.device" };

export const auth = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(STORAGE.session));
    } catch (error) {
      return null;
    }
  },
  set(session) {
    sessionStorage.setItem(STORAGE.session, JSON.stringify(session));
  },
  clear() {
    sessionStorage.removeItem(STORAGE.session);
  },
  deviceId() {
    let id = sessionStorage.getItem(STORAGE.device);
    if (!id) {
      const random = new Uint8Array(8);
      crypto.getRandomValues(random);
      id = "web-" + Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
      sessionStorage.setItem(STORAGE.device, id);
    }
    return id;
  },
  refreshing: null,
  /** One refresh at a time: refresh tokens are single-use. */
  refresh() {
    if (!auth.refreshing) {
      const session = auth.get();
      auth.refreshing = (async () => {
        if (!session || !session.refresh) return false;
        const response = await fetch("/api/v1/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: session.refresh }),
        });
        if (!response.ok) return false;
        const pair = await response.json();
        auth.set({ ...session, access: pair.access_token, refresh: pair.refresh_token });
        return true;
      })().finally(() => {
        auth.refreshing = null;
      });
    }
    return auth.refreshing;
  },
  async logout() {
    const session = auth.get();
    if (session && session.access) {
      try {
        await fetch("/api/v1/auth/logout", {
          method: "POST",
          headers: { Authorization: `Bearer ${session.access}` },
        });
      } catch (error) {
        /* offline: the token simply expires */
      }
    }
    auth.clear();
  },
};
