/* The page shell /map and /dashboard share: language picker, sign-in form, role check, the user's
 * name and sign-out. start() runs the page's own code once a manager or admin is signed in.
 *
 * Its parts are in common/ (config, dom, i18n, format, session, api, toast); pages import what
 * they use from there. Plain browser ES modules, no build step.
 */
import { api, ApiError, errorText, onSignedOut } from "./common/api.js";
import { i18n } from "./common/i18n.js";
import { auth } from "./common/session.js";

let page = null;

async function login(email, password) {
  const body = await api.request("/api/v1/auth/login", {
    method: "POST",
    body: { email, password, device_id: auth.deviceId(), device_name: "web map" },
    anonymous: true,
  });
  auth.set({ access: body.access_token, refresh: body.refresh_token, user: body.user });
  return body.user;
}

function showLogin(message) {
  document.getElementById("fs-app").hidden = true;
  document.getElementById("fs-login").hidden = false;
  document.getElementById("fs-user").hidden = true;
  document.getElementById("fs-signout").hidden = true;
  const error = document.getElementById("fs-login-error");
  error.hidden = !message;
  error.textContent = message || "";
  document.getElementById("fs-email").focus();
}

onSignedOut(() => showLogin(i18n.t("login.expired")));

async function enter(user) {
  document.getElementById("fs-login").hidden = true;
  document.getElementById("fs-app").hidden = false;
  const name = document.getElementById("fs-user");
  name.textContent = `${user.name} · ${i18n.t("role." + user.role)}`;
  name.dataset.role = user.role;
  name.hidden = false;
  document.getElementById("fs-signout").hidden = false;
  await page.onReady(user);
}

/**
 * start({roles: ["manager", "admin"], onReady(user), onLanguage(lang)})
 */
export async function start(options) {
  page = options;
  await i18n.load(i18n.initial());
  if (options.onLanguage) i18n.onChange(options.onLanguage);
  i18n.onChange(() => {
    const session = auth.get();
    if (session && session.user) {
      document.getElementById("fs-user").textContent =
        `${session.user.name} · ${i18n.t("role." + session.user.role)}`;
    }
  });
  document.getElementById("fs-lang").addEventListener("change", (event) => {
    i18n.load(event.target.value);
  });
  document.getElementById("fs-signout").addEventListener("click", async () => {
    await auth.logout();
    window.location.reload();
  });
  document.getElementById("fs-login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const user = await login(form.email.value.trim(), form.password.value);
      if (!options.roles.includes(user.role)) {
        await auth.logout();
        showLogin(i18n.t("login.wrong_role"));
        return;
      }
      form.password.value = "";
      await enter(user);
    } catch (error) {
      showLogin(
        error instanceof ApiError && error.status === 401
          ? i18n.t("login.failed")
          : errorText(error)
      );
    } finally {
      button.disabled = false;
    }
  });
  const session = auth.get();
  if (session && session.user && options.roles.includes(session.user.role)) {
    await enter(session.user);
  } else {
    showLogin();
  }
}
