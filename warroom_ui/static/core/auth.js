// core/auth.js — login, the account steps a session must take first, session end and logout.
//
// Usage (the whole of a page's session handling):
//   withSession(async me => {               // after every login, with GET /api/auth/me
//     const map = await createMap("map");
//     ...
//     return () => removeMap(map);          // called when the session ends
//   }, { shell: document.getElementById("sidebar"), logout: document.getElementById("logout") });
//
// Whoever is not logged in gets the login form (#login); a session that must change its
// password or enrol an authenticator app (admin, security_admin, auditor) gets those steps
// (#account) first, as the server refuses everything else until then. A 401 anywhere (an API
// call through core/api.js, a map tile) ends the page's session and brings the login back,
// with a note; logging in again starts the page again.

import { api, me, onUnauthorized } from "./api.js";
import { el } from "./dom.js";
import { zh } from "./strings.js";

const field = (label, attributes) => el("label", {}, `${label} `, el("input", attributes));
let forms = null;

function buildForms(title) {
  const t = zh.auth;
  const login = el("form", { id: "login", class: "panel auth", hidden: true },
    el("h1", {}, title),
    el("p", { id: "login-note", class: "notice", hidden: true }),
    field(t.username, { name: "username", autocomplete: "username", required: true }),
    field(t.password, { name: "password", type: "password", autocomplete: "current-password",
                        required: true }),
    field(t.totp, { name: "totp_code", inputmode: "numeric", autocomplete: "one-time-code",
                    pattern: "[0-9]{6}", maxlength: 6 }),
    el("button", { type: "submit" }, t.login),
    el("p", { id: "login-error", class: "error", role: "alert" }));
  const account = el("form", { id: "account", class: "panel auth", hidden: true },
    el("h1", { id: "account-title" }),
    el("p", { id: "account-note", class: "muted" }),
    el("div", { id: "password-step", hidden: true },
      field(t.oldPassword, { name: "old_password", type: "password", autocomplete: "current-password" }),
      field(t.newPassword, { name: "new_password", type: "password", autocomplete: "new-password" }),
      field(t.repeatPassword, { name: "repeat_password", type: "password", autocomplete: "new-password" })),
    el("div", { id: "totp-step", hidden: true },
      el("p", {}, `${t.secret} `, el("code", { id: "totp-secret" })),
      el("p", { class: "muted" }, `${t.otpauth} `, el("code", { id: "totp-uri" })),
      field(t.code, { name: "code", inputmode: "numeric", autocomplete: "one-time-code",
                      pattern: "[0-9]{6}", maxlength: 6 })),
    el("button", { type: "submit" }, t.confirm),
    el("p", { id: "account-error", class: "error", role: "alert" }));
  document.body.prepend(login, account);  // first: a page's own forms come after
  return { login, account };
}

const byId = id => document.getElementById(id);

function showLogin(note = "") {
  forms.account.hidden = true;
  forms.login.reset();
  byId("login-error").textContent = "";
  byId("login-note").textContent = note;
  byId("login-note").hidden = !note;
  forms.login.hidden = false;
}

// One account step (change_password or enrol_totp); resolves once the server took it.
async function accountStep(required) {
  const form = forms.account;
  const step = zh.auth.steps[required];
  forms.login.hidden = true;
  form.reset();
  byId("account-title").textContent = step.title;
  byId("account-note").textContent = step.note;
  byId("account-error").textContent = "";
  byId("password-step").hidden = required !== "change_password";
  byId("totp-step").hidden = required !== "enrol_totp";
  if (required === "enrol_totp") {
    const enrolment = await api("/api/auth/totp/enroll", { method: "POST" });
    byId("totp-secret").textContent = enrolment.secret;
    byId("totp-uri").textContent = enrolment.otpauth_uri;
  }
  form.hidden = false;
  return new Promise(resolve => {
    form.onsubmit = async event => {
      event.preventDefault();
      const values = new FormData(form);
      if (required === "change_password" && values.get("new_password") !== values.get("repeat_password")) {
        byId("account-error").textContent = zh.auth.mismatch;
        return;
      }
      const [path, json] = required === "change_password"
        ? ["/api/auth/password", { old_password: values.get("old_password"),
                                   new_password: values.get("new_password") }]
        : ["/api/auth/totp/confirm", { code: values.get("code") }];
      try {
        await api(path, { method: "POST", json });
      } catch (failure) {
        byId("account-error").textContent = `${zh.auth.notDone}${failure.message}`;
        return;
      }
      form.hidden = true;
      resolve();
    };
  });
}

let ending = null;  // ends the running session of the page, if one runs

/** End the page's session: its teardown first (no tile asked for after), then the server's. */
export async function logout() {
  ending?.();
  await api("/api/auth/logout", { method: "POST" }).catch(() => {});
  showLogin();
}

/**
 * Run `start(me)` once the user is logged in (after any account steps), and again after each
 * later login. What `start` returns (a function) is called when the session ends: logout, or
 * a 401 anywhere. options: `title` (the login form's heading), `shell` (an element shown only
 * while logged in), `logout` (a button that logs out).
 */
export function withSession(start, { title = zh.auth.title, shell, logout: button } = {}) {
  forms ??= buildForms(title);
  let generation = 0;
  let stop = null;
  let live = false;

  const end = () => {
    generation += 1;
    live = false;
    ending = null;
    if (shell) shell.hidden = true;
    stop?.();
    stop = null;
  };
  const begin = async () => {
    const mine = ++generation;
    live = true;
    ending = end;
    let who = await me();
    while (who.required) {
      await accountStep(who.required);
      who = await me();
    }
    forms.login.hidden = true;
    if (shell) shell.hidden = false;
    const teardown = await start(who);
    if (mine === generation) stop = teardown;
    else teardown?.();  // the session ended while the page was starting
  };
  const failed = error => { if (error?.status !== 401) console.error(error); };

  onUnauthorized(() => {
    if (!live) return;
    end();
    showLogin(zh.auth.expired);
  });
  button?.addEventListener("click", logout);
  forms.login.addEventListener("submit", async event => {
    event.preventDefault();
    const values = new FormData(forms.login);
    const json = { username: values.get("username"), password: values.get("password") };
    if (values.get("totp_code")) json.totp_code = values.get("totp_code");
    try {
      await api("/api/auth/login", { method: "POST", json, loginAttempt: true });
    } catch (error) {
      byId("login-error").textContent = error.status === 401
        ? zh.auth.wrongCredentials : `${zh.auth.failed}${error.message}`;
      return;
    }
    begin().catch(failed);
  });
  // A session cookie from before goes straight on; the probe answers 200 either way, so a
  // visitor who is not logged in sees the form and no failed request.
  api("/api/auth/session")
    .then(session => (session.authenticated ? begin() : showLogin()))
    .catch(error => { failed(error); showLogin(); });
}
