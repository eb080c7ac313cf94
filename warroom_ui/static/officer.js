// 民警工作台: pick units on the map (click, shift-click, box, lasso) narrowed by attributes,
// see how many and which, act on them all (tasks, a notice, a CSV or Excel file), open a
// unit's card with its records and check-ins, edit it or drag it on the map (sent at the
// version read: a unit changed meanwhile is refused and said so, never overwritten), and
// work through "my tasks" and the approvals waiting (a unit's edit of its details), colour the
// units by training compliance. The server's answer (POST /api/selections) is the selection.

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatCount, formatTime } from "./core/dom.js";
import { addFeatureLayers, createMap, registryLayers, removeMap, whenDrawn } from "./core/map.js";
import { zh } from "./core/strings.js";
import { download, failure, myTasks, readVersioned, taskList, timeline } from "./field.js";
import { Picker, selectionOf } from "./officer.select.js";

const t = zh.officer;
const f = zh.field;
const LAYER = "units";
const LIST_SIZE = 200;
const byId = id => document.getElementById(id);
const button = (text, onclick, attributes = {}) =>
  el("button", { type: "button", onclick, ...attributes }, text);

// The page's one store: what was picked, and what the server says it holds.
const state = { map: null, shape: null, ids: new Set(), clicked: new Map(), selected: [], count: 0 };

function say(text, kind = "ok") {
  byId("message").textContent = text;
  byId("message").className = kind;
}

function filters() {
  const form = byId("filter-fields");
  const chosen = {};
  if (form.category.value) chosen.category = form.category.value;
  if (form.risk.value) chosen.risk_level = form.risk.value;
  if (form.key.checked) chosen.is_key_unit = "true";
  return chosen;
}

// The selection as the API takes it; with nothing picked, the units in view.
function selection() {
  const bounds = state.map.getBounds().toArray().flat();
  const shape = state.shape ?? (state.ids.size ? null : { box: bounds });
  return { layers: [LAYER], ...selectionOf(LAYER, shape, state.ids),
           filters: { [LAYER]: filters() } };  // fmt: skip
}

function highlight(ids) {
  state.selected.forEach(id => state.map.setFeatureState({ source: LAYER, sourceLayer: LAYER, id }, { selected: false }));
  ids.forEach(id => state.map.setFeatureState({ source: LAYER, sourceLayer: LAYER, id }, { selected: true }));
  state.selected = ids;
}

async function countOf(body, extra) {
  const answer = await api("/api/selections", { method: "POST", json: {
    ...body, limit: 0, filters: { [LAYER]: { ...body.filters[LAYER], ...extra } } } });
  return answer.count;
}

// The first features of the selection, with their attributes: clicked ones as their tiles
// drew them, a box or lasso's from the server (the same region and filters; `only`: of these ids).
async function listed(body, only) {
  if (body.ids) {
    return body.ids[LAYER].filter(id => !only || only.has(id)).slice(0, LIST_SIZE)
      .map(id => state.clicked.get(id)).filter(Boolean);
  }
  const geometry = body.lasso ?? { type: "Polygon", coordinates: [[[body.box[0], body.box[1]],
    [body.box[2], body.box[1]], [body.box[2], body.box[3]], [body.box[0], body.box[3]], [body.box[0], body.box[1]]]] };
  const answer = await api("/api/spatial/query", { method: "POST", json: {
    geometry, layers: [LAYER], filters: body.filters, limit: only ? 10_000 : LIST_SIZE } });
  const features = answer.layers[LAYER].features;
  return only ? features.filter(feature => only.has(feature.id)).slice(0, LIST_SIZE) : features;
}

// With "overdue tasks only", the picked units that have an open task past due, by id.
async function narrowed(body) {
  if (!byId("filter-fields").overdue.checked) return { body, only: null };
  const [all, overdue] = await Promise.all([
    api("/api/selections", { method: "POST", json: { ...body, limit: 10_000 } }),
    api(`/api/layers/${LAYER}/overdue?limit=10000`)]);
  const late = new Set(overdue.ids);
  const ids = all.layers[LAYER].ids.filter(id => late.has(id));
  return { body: { layers: [LAYER], ids: { [LAYER]: ids }, filters: body.filters }, only: new Set(ids) };
}

// One question at a time: the server runs two spatial queries of a user at once (429 beyond).
let asking = Promise.resolve();
const refresh = () => (asking = asking.then(update, update));

async function update() {
  const asked = selection();
  const { body, only } = await narrowed(asked);
  state.resolved = body;  // what the batch actions act on: what is shown
  const answer = await api("/api/selections", { method: "POST", json: { ...body, limit: 5000 } });
  const picked = answer.layers[LAYER];
  state.count = picked.count;
  highlight(picked.ids);
  // the count first, as soon as the server said it; the details follow
  const tallies = el("div", { class: "tally", id: "by-risk" });
  const list = el("ul", { class: "list", id: "selection-list" });
  byId("summary").replaceChildren(
    el("h2", {}, t.selection),
    el("p", { class: "summary-count", id: "selected-count", "data-count": picked.count },
       t.selected(formatCount(picked.count))), tallies, list);
  byId("batch").hidden = picked.count === 0;
  state.counted?.();
  state.counted = null;
  const risk = body.filters[LAYER].risk_level;
  for (const level of risk ? [Number(risk)] : [1, 2, 3, 4]) {
    const n = await countOf(body, { risk_level: String(level) });
    tallies.append(el("span", {}, `${f.risk(level)} ${formatCount(n)}`));
  }
  tallies.append(el("span", {}, `${f.keyUnit} ${formatCount(await countOf(body, { is_key_unit: "true" }))}`));
  list.replaceChildren(...(await listed(only ? asked : body, only)).map(feature => el("li", {},
    button(feature.properties.name, () => openCard(feature.id), { class: "link" }),
    el("span", { class: "muted" }, zh.unitCategories[feature.properties.category] ?? ""))));
}

function picked(pick) {
  if (pick.ids) {
    if (!pick.add) state.ids.clear();
    pick.hits.forEach(hit => state.clicked.set(hit.id, hit));
    state.shape = null;
    pick.ids.forEach(id => (state.ids.has(id) && pick.add ? state.ids.delete(id) : state.ids.add(id)));
    if (pick.ids.length === 1 && !pick.add) openCard(pick.ids[0]);
  } else {
    state.ids.clear();
    state.shape = pick;
  }
  refresh().catch(error => say(failure(error), "error"));
}

function tools(picker) {
  const modes = ["click", "box", "lasso"];
  const buttons = modes.map(mode => button(t.tools[mode], () => {
    picker.setMode(mode);
    buttons.forEach(b => b.classList.toggle("active", b.dataset.mode === mode));
  }, { "data-mode": mode, class: mode === "click" ? "active" : "" }));
  const clear = button(t.tools.clear, () => {
    state.ids.clear();
    state.shape = null;
    refresh().catch(error => say(failure(error), "error"));
  }, { id: "clear" });
  byId("tools").replaceChildren(...buttons, clear);
}

function filterFields() {
  const categories = Object.entries(zh.unitCategories);
  byId("filter-fields").replaceChildren(
    el("select", { name: "category", "aria-label": t.category },
       el("option", { value: "" }, t.anyCategory),
       ...categories.map(([value, title]) => el("option", { value }, title))),
    el("select", { name: "risk", "aria-label": t.risk }, el("option", { value: "" }, t.anyRisk),
       ...[1, 2, 3, 4].map(level => el("option", { value: level }, f.risk(level)))),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "key" }), t.keyOnly),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "overdue" }), t.overdueOnly));
  byId("filter-fields").onchange = () => refresh().catch(error => say(failure(error), "error"));
}

async function act(work, done) {
  try {
    say(done(await work()));
    showTasks();
  } catch (error) {
    say(failure(error), "error");
  }
}

function batch() {
  const taskTitle = el("input", { id: "task-title", placeholder: t.taskTitle, value: "" });
  const noticeTitle = el("input", { id: "notice-title", placeholder: t.noticeTitle });
  const noticeBody = el("textarea", { id: "notice-body", placeholder: t.noticeBody, rows: 2 });
  const exporting = format => () => download(`/api/selections/export?format=${format}`,
    { selection: state.resolved }, `selection.${format}`).catch(error => say(failure(error), "error"));
  byId("batch").replaceChildren(
    el("h2", {}, t.batch), taskTitle,
    button(t.createTasks, () => act(() => api("/api/selections/tasks", { method: "POST", json: {
      selection: state.resolved, task: { title: taskTitle.value || t.createTasks,
                                      details: { task_kind: "inspection" } } } }),
      made => t.tasksMade(made.count)), { id: "create-tasks" }),
    noticeTitle, noticeBody,
    button(t.sendNotice, () => act(() => api("/api/selections/notices", { method: "POST", json: {
      selection: state.resolved, notice: { title: noticeTitle.value, body: noticeBody.value } } }),
      () => t.noticeSent), { id: "send-notice" }),
    el("div", { class: "row" }, button(t.exportCsv, exporting("csv"), { id: "export-csv" }),
       button(t.exportXlsx, exporting("xlsx"), { id: "export-xlsx" })));
}

// The units' colour by training compliance (tile properties, docs/training.md), and its legend.
const COMPLIANCE = { passed: "#66bb6a", due: "#ffca28", overdue: "#ef5350", none: "#78909c" };
const today = () => new Date().toISOString().slice(0, 10);
const complianceColour = () => ["case",
  ["!", ["has", "training_assigned"]], COMPLIANCE.none,
  [">=", ["get", "training_passed"], ["get", "training_assigned"]], COMPLIANCE.passed,
  ["<", ["coalesce", ["get", "training_due"], "9999-12-31"], today()], COMPLIANCE.overdue,
  COMPLIANCE.due];

function trainingColours(map) {
  const point = `${LAYER}-point`;
  const plain = ["circle-color", "circle-radius"].map(name => map.getPaintProperty(point, name));
  const larger = ["interpolate", ["linear"], ["sqrt", ["coalesce", ["get", "count"], 1]], 1, 5, 30, 14];
  const legend = el("div", { class: "legend", id: "training-legend", hidden: true },
    ...Object.entries(COMPLIANCE).map(([name, colour]) => {
      const swatch = el("i");
      swatch.style.background = colour;  // CSSOM: allowed by the CSP, unlike a style attribute
      return el("span", { "data-compliance": name }, swatch, t.compliance[name]);
    }));
  byId("map").append(legend);
  const toggle = el("input", { type: "checkbox", id: "training-colours" });
  toggle.onchange = () => {
    map.setPaintProperty(point, "circle-color", toggle.checked ? complianceColour() : plain[0]);
    map.setPaintProperty(point, "circle-radius", toggle.checked ? larger : plain[1]);
    legend.hidden = !toggle.checked;
  };
  return el("label", { class: "check" }, toggle, t.trainingColours);
}

// What an approval would change: each proposed attribute as "title: value".
function proposed(approval) {
  const attributes = registryLayers(state.map).find(layer => layer.id === LAYER).attributes;
  const title = name => attributes.find(attribute => attribute.name === name)?.title ?? name;
  const properties = approval.details.payload?.properties ?? {};
  return Object.entries(properties).map(([name, value]) => `${title(name)}: ${value}`).join("; ");
}

async function showApprovals() {
  const pending = (await api("/api/approvals/pending?limit=50")).data;
  const decide = (approval, action) => act(() => api(`/api/approvals/${approval.id}/transitions`, {
    method: "POST", ifMatch: approval.version, json: { action } }), () => {
    showApprovals().catch(error => say(failure(error), "error"));
    return t.decided[action];
  });
  byId("approvals").replaceChildren(pending.length ? el("ul", { class: "list tasks" },
    ...pending.map(approval => el("li", { "data-id": approval.id },
      el("strong", {}, approval.title),
      el("span", { class: "change" }, proposed(approval)),
      el("span", { class: "muted" }, formatTime(approval.created_at)),
      el("span", { class: "actions" },
        button(t.approve, () => decide(approval, "approve"), { class: "approve" }),
        button(t.reject, () => decide(approval, "reject"), { class: "reject" }))))) :
    el("p", { class: "muted" }, t.noApprovals));
}

async function showTasks() {
  byId("tasks").replaceChildren(taskList(await myTasks(), error => (error ? say(failure(error), "error") : showTasks())));
}

// A unit's card: attributes to edit, a marker to drag, its check-ins and records.
async function openCard(unitId) {
  const card = byId("card");
  const [{ body: unit, version }, records, checkIns] = await Promise.all([
    readVersioned(`/api/layers/${LAYER}/features/${unitId}`),
    api(`/api/layers/${LAYER}/features/${unitId}/records?limit=20`),
    api(`/api/layers/${LAYER}/features/${unitId}/check-ins?limit=5`)]);
  const p = unit.properties;
  const units = registryLayers(state.map).find(layer => layer.id === LAYER);
  const title = name => units.attributes.find(attribute => attribute.name === name).title;
  state.marker?.remove();
  state.marker = new window.maplibregl.Marker({ draggable: true, color: "#ffeb3b" })
    .setLngLat(unit.geometry.coordinates).addTo(state.map);
  const form = el("form", { class: "edit", id: "edit-unit" },
    el("label", {}, title("name")), el("input", { name: "name", value: p.name }),
    el("label", {}, title("category")), el("select", { name: "category" }, ...Object.entries(zh.unitCategories)
      .map(([value, title]) => el("option", { value, selected: value === p.category }, title))),
    el("label", {}, title("risk_level")), el("select", { name: "risk_level" }, ...[1, 2, 3, 4]
      .map(level => el("option", { value: level, selected: level === p.risk_level }, f.risk(level)))),
    el("label", { class: "wide" }, el("input", { type: "checkbox", name: "is_key_unit", checked: p.is_key_unit }), title("is_key_unit")),
    el("p", { class: "muted wide" }, t.moveHint),
    el("button", { type: "submit", class: "wide" }, t.save));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const { lng, lat } = state.marker.getLngLat();
    const json = { properties: { name: form.name.value, category: form.category.value,
                                 risk_level: Number(form.risk_level.value),
                                 is_key_unit: form.is_key_unit.checked },
                   geometry: { type: "Point", coordinates: [lng, lat] } };
    try {
      await api(`/api/layers/${LAYER}/features/${unitId}`, { method: "PATCH", ifMatch: version, json });
      say(t.saved);
      openCard(unitId);
    } catch (error) {
      say(failure(error), "error");  // the form keeps what was typed: nothing is overwritten
    }
  });
  card.replaceChildren(
    el("h3", {}, p.name), el("p", { class: "muted" }, p.address ?? ""),
    el("p", {}, f.openHazards(records.risk.open_hazards)),
    el("h2", {}, t.edit), form,
    el("h2", {}, zh.m.checkIns),
    el("ul", { class: "list" }, ...checkIns.data.map(c => el("li", {}, `${c.username} · ${f.metres(c.distance_m)}`))),
    el("h2", {}, zh.m.timeline), timeline(records.data),
    button(f.back, () => { card.hidden = true; state.marker?.remove(); }));
  card.hidden = false;
}

withSession(async () => {
  byId("heading").textContent = t.title;
  byId("logout").textContent = zh.auth.logout;
  byId("hint").textContent = t.hint;
  byId("filters-title").textContent = t.filters;
  byId("tasks-title").textContent = t.myTasks;
  byId("approvals-title").textContent = t.approvals;
  const map = state.map = await createMap("map", { features: { only: [LAYER] } });
  await addFeatureLayers(map, { only: [LAYER] });
  map.addLayer({ id: "units-selected", type: "circle", source: LAYER, "source-layer": LAYER,
    minzoom: 12, paint: { "circle-radius": 7, "circle-opacity": 0, "circle-stroke-color": "#ffeb3b",
      "circle-stroke-width": ["case", ["boolean", ["feature-state", "selected"], false], 2.5, 0] } });
  tools(new Picker(map, `${LAYER}-point`, picked));
  byId("colouring").replaceChildren(trainingColours(map));
  filterFields();
  batch();
  await new Promise(resolve => { state.counted = resolve; refresh(); });
  showTasks().catch(error => say(failure(error), "error"));
  showApprovals().catch(error => say(failure(error), "error"));
  await whenDrawn(map);
  document.body.dataset.ready = "true";  // interactive: the map drawn, the selection's count
  return () => { byId("card").hidden = true; removeMap(map); };
}, { title: t.title, shell: byId("sidebar"), logout: byId("logout") });
