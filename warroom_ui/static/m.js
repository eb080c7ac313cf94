// 移动警务: the officer's phone (360x740, one thumb). Home (notices, to-do, the work views),
// nearby units by distance from the phone's position, the units of the officer's
// jurisdiction, my tasks, security tasks, clue verification and the hazard ledger (each with
// the steps the officer may take), a unit's card with its records and check-ins, on-site
// check-in, an inspection from the form template (core/forms.js) with photos from the
// camera, and the writes still waiting for the network (m.queue.js: sent once, in order,
// when the network returns).

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatTime } from "./core/dom.js";
import { answerFields, readAnswers } from "./core/forms.js";
import { zh } from "./core/strings.js";
import { failure, myTasks, recordList, taskList, timeline } from "./field.js";
import { enqueue, flush, pending } from "./m.queue.js";

const t = zh.m;
const f = zh.field;
const view = document.getElementById("view");
const tabs = document.getElementById("tabs");
const message = document.getElementById("message");
const pendingBadge = document.getElementById("pending-badge");
const network = document.getElementById("network");

const byRisk = risk => `risk risk-${risk}`;

function say(text, kind = "ok") {
  message.textContent = text;
  message.className = kind;
  message.hidden = !text;
}

const button = (text, onclick, attributes = {}) =>
  el("button", { type: "button", onclick, ...attributes }, text);

function show(title, ...children) {
  view.replaceChildren(el("h2", {}, title), ...children);
  window.scrollTo(0, 0);
}

function showNetwork() {
  network.textContent = navigator.onLine ? t.online : t.offline;
  network.className = `badge ${navigator.onLine ? "good" : "bad"}`;
}

async function showPending() {
  const count = (await pending()).length;
  pendingBadge.hidden = count === 0;
  pendingBadge.textContent = t.pendingCount(count);
}

// What the server said about a write from the queue.
function answered(item, made, error) {
  if (error) {
    const body = error.body ?? {};
    say(body.code === "TooFarAway"
      ? t.tooFar(f.metres(body.distance_m), f.metres(body.max_distance_m))
      : `${f.failed}${error.message}`, "error");
  } else if (item.kind === "check_in") {
    say(t.checkedIn(f.metres(made.distance_m)));
  } else {
    say(t.submitted);
  }
}

async function send() {
  const left = await flush(answered);
  await showPending();
  return left;
}

// A write goes to the queue first, then out at once if the network lets it.
async function submit(item) {
  await enqueue(item);
  const left = await send();
  if (left > 0) say(t.queued, "notice");
}

// Always a fresh fix (maximumAge 0): a check-in is judged by where the officer is now, not
// by a position remembered from seconds ago at another place.
function locate() {
  return new Promise((resolve, reject) => navigator.geolocation.getCurrentPosition(
    position => resolve(position.coords), reject,
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 }));
}

function unitRow(feature, extra) {
  const p = feature.properties;
  return el("li", { class: "unit", "data-id": feature.id },
    button(p.name, () => showUnit(feature.id), { class: "link" }),
    el("span", { class: "muted" }, zh.unitCategories[p.category] ?? p.category),
    p.risk_level ? el("span", { class: byRisk(p.risk_level) }, f.risk(p.risk_level)) : null,
    p.is_key_unit ? el("span", { class: "badge" }, f.keyUnit) : null,
    extra);
}

async function showNearby() {
  const status = el("p", { class: "muted" }, t.locating);
  const list = el("ul", { class: "list", id: "nearby" });
  show(t.tabs.nearby, button(t.locate, showNearby, { class: "primary" }), status, list);
  let coords;
  try {
    coords = await locate();
  } catch (error) {
    status.textContent = `${t.noPosition}${error.message}`;
    return;
  }
  status.textContent = t.youAreAt(coords.longitude, coords.latitude, coords.accuracy);
  const point = `${coords.longitude},${coords.latitude}`;
  const page = await api(`/api/layers/units/nearest?k=20&point=${point}`);
  list.replaceChildren(...page.features.map(feature => unitRow(feature,
    el("span", { class: "distance" }, f.metres(feature.properties.distance_m)))));
}

async function showUnits() {
  const page = await api("/api/layers/units/features?limit=100&sort=-risk_level");
  show(t.tabs.units, el("ul", { class: "list" }, ...page.features.map(unit => unitRow(unit))));
}

async function checkIn(unitId, name) {
  say(t.locating, "notice");
  let coords;
  try {
    coords = await locate();
  } catch (error) {
    say(`${t.noPosition}${error.message}`, "error");
    return;
  }
  await submit({ kind: "check_in", path: "/api/check-ins", title: name, body: {
    layer: "units", feature_id: unitId, position: [coords.longitude, coords.latitude],
    accuracy_m: coords.accuracy, client_at: new Date().toISOString(),
  } });
  await showUnit(unitId).catch(() => {});  // the check-in among the unit's own (if online)
}

async function showUnit(unitId) {
  const [unit, records, checkIns] = await Promise.all([
    api(`/api/layers/units/features/${unitId}`),
    api(`/api/layers/units/features/${unitId}/records?limit=10`),
    api(`/api/layers/units/features/${unitId}/check-ins?limit=5`)]);
  const p = unit.properties;
  show(p.name,
    el("p", { class: "muted" }, p.address ?? ""),
    el("p", {}, el("span", { class: byRisk(p.risk_level) }, f.risk(p.risk_level)), " ",
       p.is_key_unit ? el("span", { class: "badge" }, f.keyUnit) : "", " ",
       el("span", { class: "muted" }, f.openHazards(records.risk.open_hazards))),
    el("div", { class: "actions" },
      button(t.checkIn, () => checkIn(unitId, p.name), { class: "primary", id: "check-in" }),
      button(t.inspect, () => showInspection(unit), { id: "inspect" })),
    el("h3", {}, t.checkIns),
    el("ul", { class: "list" }, ...checkIns.data.map(c => el("li", {},
      `${c.username} · ${formatTime(c.at)} · ${f.metres(c.distance_m)}`))),
    el("h3", {}, t.timeline), timeline(records.data),
    button(f.back, () => showNearby()));
}

async function showInspection(unit) {
  const forms = (await api("/api/forms")).data.filter(form => form.form_kind === "inspection");
  const template = forms[0];
  if (!template) return say(f.nothing, "error");
  const photos = el("input", { type: "file", accept: "image/*", capture: "environment",
                               multiple: true, name: "photos", id: "photos" });
  const photoCount = el("span", { class: "muted" });
  photos.addEventListener("change", () => { photoCount.textContent = t.photoCount(photos.files.length); });
  const form = el("form", { class: "inspection", id: "inspection" },
    ...answerFields(template),
    el("label", { class: "file" }, t.photos, photos), photoCount,
    el("button", { type: "submit", class: "primary" }, t.submit));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const answers = readAnswers(template, form);
    await submit({ kind: "inspection", path: "/api/inspections", photos: [...photos.files],
                   title: unit.properties.name, body: {
      template: template.code, template_version: template.version, answers,
      title: `${template.title}：${unit.properties.name}`,
      features: [{ layer: "units", id: unit.id }],
    } });
    showUnit(unit.id).catch(() => {});  // offline: the form stays, the message says why
  });
  show(`${t.inspection} · ${unit.properties.name}`, el("p", { class: "muted" }, template.title),
       form, button(f.back, () => showUnit(unit.id)));
}

async function showTasks() {
  const tasks = await myTasks();
  show(t.myTasks, taskList(tasks, error => (error ? say(failure(error), "error") : showTasks())));
}

// One kind of record the officer may list (GET /api/records), soonest due first, each with
// the steps the officer may take; a step taken shows the list again, as the server has it.
const listed = (kind, ...details) => api(`/api/records?kind=${kind}&limit=50${
  details.map(d => `&detail=${encodeURIComponent(d)}`).join("")}`).then(page => page.data);

const RECORD_PATHS = { task: "/api/tasks", clue: "/api/clues", hazard: "/api/hazards" };

function workList(records, again, more) {
  const changed = (error, answer) => (error ? say(failure(error), "error")
    : again().then(() => say(answer?.kind === "approval" ? t.waitsApproval : t.stepTaken)));
  return recordList(records, RECORD_PATHS[records[0]?.kind] ?? "", changed, more);
}

// The first unit a record is about, as a link to its card.
function unitLink(record) {
  const unit = (record.features ?? []).find(feature => feature.layer === "units");
  return unit ? button(t.openUnit, () => showUnit(unit.id), { class: "unit-link" }) : null;
}

async function showSecurity() {
  const tasks = await listed("task", "task_kind:security", "task_kind:important");
  show(t.views.security, workList(tasks, showSecurity, unitLink));
}

async function showClues() {
  const [clues, checks] = await Promise.all([listed("clue"), listed("task", "task_kind:clue_verification")]);
  const source = clue => el("span", { class: "muted" }, `${t.clueSource[clue.details.source] ?? ""} · ${clue.details.content ?? ""}`);
  show(t.views.clues,
    el("h3", {}, t.clues), el("div", { id: "clue-list" }, workList(clues, showClues, clue => [source(clue), unitLink(clue)])),
    el("h3", {}, t.clueTasks), el("div", { id: "clue-tasks" }, workList(checks, showClues, unitLink)));
}

async function showHazards() {
  const hazards = await listed("hazard");
  const late = hazards.filter(h => h.due_at && new Date(h.due_at) < new Date()).length;
  const level = hazard => el("span", { class: `risk risk-${hazard.details.level}` },
    `${t.hazardLevel(hazard.details.level)} · ${t.hazardCategory[hazard.details.category] ?? hazard.details.category}`);
  show(t.views.hazards, el("p", { class: "muted", id: "ledger-summary" }, t.ledgerSummary(hazards.length, late)),
    el("div", { id: "ledger" }, workList(hazards, showHazards, hazard => [level(hazard), unitLink(hazard)])));
}

async function inbox() {
  return (await api("/api/inbox?limit=100")).data;
}

function uniqueRecords(messages) {
  const seen = new Set();
  return messages.filter(m => !seen.has(m.record.id) && seen.add(m.record.id));
}

function noticeItem(m) {
  const read = m.read_at !== null;
  return el("li", {}, el("strong", {}, m.record.title),
    el("span", { class: "muted" }, `${formatTime(m.created_at)} · ${read ? t.read : t.unread}`),
    read ? null : button(t.markRead, async () => { await api(`/api/inbox/${m.id}/read`, { method: "POST" }); showHome(); }));
}

async function showHome() {
  const messages = await inbox();
  const notices = messages.filter(m => m.record.kind === "notice").slice(0, 5);
  const todo = uniqueRecords(messages.filter(m => m.record.kind !== "notice" && m.read_at === null)).slice(0, 5);
  const waiting = (await pending()).length;
  show(t.tabs.home,
    el("section", { class: "card" }, el("h3", {}, t.notices),
       notices.length ? el("ul", { class: "list" }, ...notices.map(noticeItem)) : el("p", { class: "muted" }, f.nothing)),
    el("section", { class: "card" }, el("h3", {}, t.todo),
       todo.length ? el("ul", { class: "list" }, ...todo.map(m => el("li", {}, el("strong", {}, m.record.title),
         el("span", { class: "muted" }, m.record.state_title))))
         : el("p", { class: "muted" }, f.nothing)),
    el("section", { class: "card" }, el("h3", {}, t.work),
       el("div", { class: "tiles" }, ...WORK.map(name => button(t.views[name], () => run(name),
         { id: `open-${name}`, class: "tile" })))),
    el("section", { class: "card" }, el("h3", {}, t.tabs.queue),
       el("p", {}, waiting ? t.pendingCount(waiting) : t.queueEmpty)));
}

async function showQueue() {
  const items = await pending();
  show(t.tabs.queue,
    items.length ? el("ul", { class: "list", id: "queue" }, ...items.map(item => el("li", {},
      el("strong", {}, `${t.queueItem[item.kind]} · ${item.title ?? ""}`),
      el("span", { class: "muted" }, formatTime(item.created)))))
      : el("p", { class: "muted" }, t.queueEmpty),
    button(t.sendNow, async () => { await send(); showQueue(); }, { class: "primary" }));
}

// The views: those of the bottom bar, and the work views opened from home's tiles.
const TABS = { home: showHome, nearby: showNearby, units: showUnits, tasks: showTasks, queue: showQueue };
const WORK_VIEWS = { security: showSecurity, clues: showClues, hazards: showHazards };
const WORK = Object.keys(WORK_VIEWS);

function run(name) {
  say("");
  [...tabs.children].forEach(tab => tab.classList.toggle("active", tab.dataset.tab === name));
  ({ ...TABS, ...WORK_VIEWS })[name]().catch(error => say(`${f.failed}${error.message}`, "error"));
}

withSession(async () => {
  document.getElementById("heading").textContent = t.title;
  document.getElementById("logout").textContent = zh.auth.logout;
  const online = () => { showNetwork(); send(); };
  window.addEventListener("online", online);
  window.addEventListener("offline", showNetwork);
  showNetwork();
  pendingBadge.onclick = () => run("queue");
  await send();
  await showHome().catch(error => say(`${f.failed}${error.message}`, "error"));
  // the tabs once home is shown: a tab's view is never covered by home arriving late
  tabs.replaceChildren(...Object.keys(TABS).map(name => el("button", {
    type: "button", "data-tab": name, class: name === "home" ? "active" : "",
    onclick: () => run(name) }, t.tabs[name])));
  document.body.dataset.ready = "true";  // interactive: home shown
  return () => {
    tabs.replaceChildren();
    window.removeEventListener("online", online);
    window.removeEventListener("offline", showNetwork);
  };
}, { title: t.title, shell: document.getElementById("shell"),
     logout: document.getElementById("logout") });
