// 运维中心: users, live sessions (revocable), feedback triage, recent errors, imports, backups.
// Each section asks its own API; a section the role may not see says so, and a role that
// may see none of them is told it has no access.

import { api, loggedIn, me } from "./core/api.js";
import { el, formatBytes, formatCount, formatTime, table } from "./core/dom.js";
import { zh } from "./core/strings.js";

const badge = (text, kind = "") => el("span", { class: `badge ${kind}` }, text);
// A yes/no state, coloured by whether it is the good one.
const state = (value, good) => badge(value ? zh.yes : zh.no, value === good ? "good" : "bad");

function users(data) {
  const u = zh.users;
  return table([
    { title: u.username, cell: row => row.username },
    { title: u.role, cell: row => zh.roles[row.role] || row.role },
    { title: u.jurisdiction, cell: row => row.jurisdiction_name || row.jurisdiction || u.city },
    { title: u.active, cell: row => state(row.is_active, true) },
    { title: u.locked, cell: row => state(row.locked, false) },
    { title: u.lastLogin, cell: row => formatTime(row.last_login_at) },
  ], data.data, zh.empty);
}

function sessions(data, reload) {
  const s = zh.sessions;
  const revoke = row => el("button", { class: "danger", type: "button", "data-session": row.id,
    onclick: async () => {
      if (!window.confirm(s.confirm(row.username))) return;
      await api(`/api/admin/sessions/${row.id}`, { method: "DELETE" });
      await reload();
    } }, s.revoke);
  return table([
    { title: s.user, cell: row => `${row.username}（${zh.roles[row.role] || row.role}）` },
    { title: s.source, cell: row => row.source },
    { title: s.client, cell: row => el("span", { class: "muted" }, row.client) },
    { title: s.created, cell: row => formatTime(row.created_at) },
    { title: s.lastSeen, cell: row => formatTime(row.last_seen_at) },
    { title: "", cell: row => (row.current ? badge(s.current, "good") : revoke(row)) },
  ], data.data, zh.empty);
}

function triage(row, reload) {
  const f = zh.feedback;
  const status = el("select", { name: "status" },
    ...[row.status, ...row.next_statuses].map(value =>
      el("option", { value, selected: value === row.status }, zh.feedbackStatus[value])));
  const note = el("input", { name: "note", maxlength: 2000, value: row.note || "" });
  const result = el("span", { class: "muted" });
  const save = el("button", { type: "button", onclick: async () => {
    try {
      await api(`/api/admin/feedback/${row.id}`, { method: "PATCH", ifMatch: row.version,
        json: { status: status.value, note: note.value || null } });
      await reload();
    } catch (error) {
      result.textContent = zh.failed + error.message;
    }
  } }, f.save);
  return el("div", { class: "toolbar", "data-feedback": row.id }, status, note, save, result);
}

function feedback(data, reload) {
  const f = zh.feedback;
  const shot = row => {
    if (!row.screenshot_bytes) return f.none;
    const url = `/api/admin/feedback/${row.id}/screenshot`;
    return el("a", { href: url, target: "_blank", title: f.view }, el("img", { class: "thumb", src: url, alt: f.view }));
  };
  return table([
    { title: f.time, cell: row => formatTime(row.created_at) },
    { title: f.author, cell: row => row.author_name },
    { title: f.page, cell: row => el("span", { class: "muted" }, row.page_url) },
    { title: f.text, cell: row => el("div", { class: "wrap" }, row.text) },
    { title: f.screenshot, cell: shot },
    { title: f.status, cell: row => badge(zh.feedbackStatus[row.status]) },
    { title: f.note, cell: row => triage(row, reload) },
  ], data.data, zh.empty);
}

function errors(data) {
  const e = zh.errors;
  return el("div", {}, el("p", { class: "muted" }, e.note), table([
    { title: e.time, cell: row => formatTime(row.at) },
    { title: e.status, cell: row => badge(String(row.status), "bad") },
    { title: e.route, cell: row => `${row.method} ${row.route}` },
    { title: e.message, cell: row => el("div", { class: "wrap" }, row.message) },
    { title: e.requestId, cell: row => el("code", {}, row.request_id) },
  ], data.data, zh.empty));
}

function imports(data) {
  const i = zh.imports;
  return table([
    { title: i.created, cell: row => formatTime(row.created_at) },
    { title: i.user, cell: row => row.actor_name },
    { title: i.layer, cell: row => row.layer },
    { title: i.source, cell: row => row.source },
    { title: i.status, cell: row => badge(zh.importStatus[row.status] || row.status,
                                          row.status === "failed" ? "bad" : "") },
    { title: i.progress, cell: row => `${formatCount(row.done)} / ${formatCount(row.total)}` },
    { title: i.error, cell: row => el("div", { class: "wrap" }, row.error || "") },
  ], data.data, zh.empty);
}

function backups(data) {
  const b = zh.backups;
  const rows = table([
    { title: b.name, cell: row => row.name },
    { title: b.status, cell: row => badge(zh.backupStatus[row.status] || row.status,
                                          row.status === "verified" ? "good" : "bad") },
    { title: b.created, cell: row => formatTime(row.created_at) },
    { title: b.revision, cell: row => row.schema_revision || "—" },
    { title: b.size, cell: row => formatBytes(row.dump_bytes) },
    { title: b.rows, cell: row => formatCount(row.rows) },
    { title: b.detail, cell: row => el("div", { class: "wrap" }, row.detail || "") },
  ], data.data, zh.empty);
  const where = !data.directory ? b.none
    : data.detail ? `${b.missing}${data.directory}` : `${b.directory}${data.directory}`;
  return el("div", {}, el("p", { class: "muted" }, where), rows);
}

const searchBox = document.getElementById("user-search");
const SECTIONS = {
  users: () => api(`/api/admin/users?search=${encodeURIComponent(searchBox.value)}`).then(users),
  sessions: reload => api("/api/admin/sessions").then(data => sessions(data, reload)),
  feedback: reload => api("/api/admin/feedback").then(data => feedback(data, reload)),
  errors: () => api("/api/admin/errors").then(errors),
  imports: () => api("/api/admin/imports").then(imports),
  backups: () => api("/api/admin/backups").then(backups),
};

// Fill one section; return false when the role may not see it.
async function show(id) {
  const box = document.getElementById(id);
  const body = box.querySelector(".body");
  const reload = () => show(id);
  try {
    body.replaceChildren(await SECTIONS[id](reload));
    box.hidden = false;
    return true;
  } catch (error) {
    if (error.status === 403) {
      box.hidden = true;
      return false;
    }
    body.replaceChildren(el("p", { class: "error" }, zh.failed + error.message));
    return true;
  }
}

function notice(...content) {
  const box = document.getElementById("notice");
  box.replaceChildren(...content);
  box.hidden = false;
}

async function start() {
  if (!(await loggedIn())) {
    notice(el("p", {}, zh.notLoggedIn), el("a", { href: "/ui/" }, zh.toMap));
    return;
  }
  const user = await me();
  document.getElementById("who").textContent = `${user.username}（${zh.roles[user.role] || user.role}）`;
  const shown = await Promise.all(Object.keys(SECTIONS).map(show));
  if (shown.some(Boolean)) document.getElementById("sections").hidden = false;
  else notice(el("p", {}, zh.forbiddenPage));
  searchBox.addEventListener("change", () => show("users"));
}

start();
