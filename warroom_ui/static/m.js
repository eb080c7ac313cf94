// 移动警务: the officer's phone (360x740, one thumb). Home (notices, to-do, my tasks), nearby
// units by distance from the phone's position, the units of the officer's jurisdiction, a
// unit's card with its records and check-ins, on-site check-in, an inspection from the form
// template with photos from the camera, and the writes still waiting for the network
// (m.queue.js: sent once, in order, when the network returns).

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatTime } from "./core/dom.js";
import { zh } from "./core/strings.js";
import { failure, myTasks, taskList, timeline } from "./field.js";
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

// One input per answer of the form's JSON Schema: a yes/no switch or a number.
function answerField(name, property) {
  const title = property.title ?? name;
  if (property.type === "boolean") {
    return el("label", { class: "switch" }, el("input", { type: "checkbox", name, checked: true }), title);
  }
  return el("label", {}, title, el("input", { type: "number", name, min: property.minimum ?? 0,
                                               inputmode: "numeric" }));
}

async function showInspection(unit) {
  const forms = (await api("/api/forms")).data.filter(form => form.form_kind === "inspection");
  const template = forms[0];
  if (!template) return say(f.nothing, "error");
  const photos = el("input", { type: "file", accept: "image/*", capture: "environment",
                               multiple: true, name: "photos", id: "photos" });
  const photoCount = el("span", { class: "muted" });
  photos.addEventListener("change", () => { photoCount.textContent = t.photoCount(photos.files.length); });
  const properties = Object.entries(template.schema.properties ?? {});
  const form = el("form", { class: "inspection", id: "inspection" },
    ...properties.map(([name, property]) => answerField(name, property)),
    el("label", { class: "file" }, t.photos, photos), photoCount,
    el("button", { type: "submit", class: "primary" }, t.submit));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const answers = {};
    for (const [name, property] of properties) {
      const input = form.elements[name];
      if (property.type === "boolean") answers[name] = input.checked;
      else if (input.value !== "") answers[name] = Number(input.value);
    }
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

const TABS = { home: showHome, nearby: showNearby, units: showUnits, tasks: showTasks, queue: showQueue };

function run(name) {
  say("");
  [...tabs.children].forEach(tab => tab.classList.toggle("active", tab.dataset.tab === name));
  TABS[name]().catch(error => say(`${f.failed}${error.message}`, "error"));
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
