// What a session must do before the map: change an initial, reset or expired password, or
// enrol an authenticator app (admin, security_admin, auditor). Until then the server refuses
// every other request (403), so the map waits for this form (map.js: proceed).
"use strict";

const ACCOUNT_STEPS = {
  change_password: {
    title: "请先修改密码",
    note: "初始密码、重置后的一次性密码或已过期的密码须先修改。新密码至少 10 位，" +
          "包含大写字母、小写字母、数字、其他字符中的至少三类，不得包含用户名，不得与最近 5 次相同。",
  },
  enrol_totp: {
    title: "请绑定动态口令",
    note: "您的角色登录须使用动态口令：在身份验证器应用（如 FreeOTP、Google Authenticator）" +
          "中添加下方密钥（基于时间，6 位，30 秒），然后输入应用显示的动态口令。以后登录时一并填写。",
  },
};

async function showAccountStep(required) {
  const form = document.getElementById("account");
  const step = ACCOUNT_STEPS[required];
  document.getElementById("login").hidden = true;
  form.reset();
  document.getElementById("account-title").textContent = step.title;
  document.getElementById("account-note").textContent = step.note;
  document.getElementById("account-error").textContent = "";
  document.getElementById("password-step").hidden = required !== "change_password";
  document.getElementById("totp-step").hidden = required !== "enrol_totp";
  if (required === "enrol_totp") {
    const enrolment = await api("/api/auth/totp/enroll", { method: "POST" });
    document.getElementById("totp-secret").textContent = enrolment.secret;
    document.getElementById("totp-uri").textContent = enrolment.otpauth_uri;
  }
  form.hidden = false;
  return new Promise(resolve => { form.onsubmit = event => submitAccountStep(event, required, resolve); });
}

async function submitAccountStep(event, required, done) {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById("account-error");
  if (required === "change_password" && form.get("new_password") !== form.get("repeat_password")) {
    error.textContent = "两次输入的新密码不一致";
    return;
  }
  const [path, body] = required === "change_password"
    ? ["/api/auth/password", { old_password: form.get("old_password"),
                               new_password: form.get("new_password") }]
    : ["/api/auth/totp/confirm", { code: form.get("code") }];
  try {
    await api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                      body: JSON.stringify(body) });
  } catch (failure) {
    error.textContent = `未完成：${failure.message}`;
    return;
  }
  event.target.hidden = true;
  done();
}
