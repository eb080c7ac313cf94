// 安保规划: draw the core ring (a polygon, or a point or route grown by metres) with
// terra-draw, add outer rings by distance, give the plan a name, activity and time window.
// While a shape is drawn or a vertex dragged (terra-draw's select mode: vertices and
// midpoints draggable), what each ring would hold is asked of the server as it changes
// (POST /api/perimeters/preview: debounced, one at a time, a stale one aborted). Each
// finished change is saved (a new version of the perimeter, at the version read) and each
// ring's contents read again (counts, risk, first units): the PostGIS answer is the truth.
// Then tasks and a notice for what is inside, the briefing map (HTML, PNG, PDF) and the
// exports; an earlier perimeter, or one of its versions, opens to be revised.

import { api, ApiError, reportUnauthorized } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatCount, formatTime } from "./core/dom.js";
import { addFeatureLayers, createMap, removeMap, whenDrawn } from "./core/map.js";
import { zh } from "./core/strings.js";
import { failure } from "./field.js";

const t = zh.planner;
const f = zh.field;
const byId = id => document.getElementById(id);
const button = (text, onclick, attributes = {}) =>
  el("button", { type: "button", onclick, ...attributes }, text);
const RING_COLOURS = { core: "#ff5252", control: "#ffb300", outer: "#4fc3f7" };
const OUTER_KINDS = ["control", "outer"];
const HOUR_MS = 3_600_000;
const PREVIEW_WAIT_MS = 150;  // a pause in the drawing this long asks for its contents
const DRAWN_MODES = ["polygon", "point", "linestring"];
const GUIDES = ["midPoint", "selectionPoint", "coordinatePoint", "closingPoint", "snappingPoint"];
const EXPORTS = ["geojson", "kml", "csv", "xlsx"];

// The page's one store: the perimeter being planned (null until first saved), the draw, and
// the preview: its timer, the request in flight (its AbortController), and a generation that
// every save and preview bumps, so an answer older than the contents shown is dropped.
const state = {
  map: null, draw: null, perimeter: null, mode: "polygon", saving: Promise.resolve(),
  preview: { timer: 0, inFlight: null, again: false, generation: 0 },
};

function say(text, kind = "ok") {
  byId("message").textContent = text;
  byId("message").className = kind;
}

function loadScript(src) {
  return new Promise((resolve, reject) => document.head.append(Object.assign(
    document.createElement("script"), { src, onload: resolve, onerror: reject })));
}

async function startDraw(map) {
  if (!window.terraDraw) await loadScript("/ui/vendor/terra-draw/terra-draw.umd.js");
  if (!window.terraDrawMaplibreGlAdapter) {
    await loadScript("/ui/vendor/terra-draw-maplibre/terra-draw-maplibre-gl-adapter.umd.js");
  }
  const { TerraDraw, TerraDrawPolygonMode, TerraDrawPointMode, TerraDrawLineStringMode,
          TerraDrawSelectMode } = window.terraDraw;
  const editable = { feature: { draggable: true,
    coordinates: { draggable: true, midpoints: true, deletable: true } } };
  const draw = new TerraDraw({
    adapter: new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map }),
    modes: [new TerraDrawPolygonMode(), new TerraDrawPointMode(), new TerraDrawLineStringMode(),
            new TerraDrawSelectMode({ flags: { polygon: editable, linestring: editable,
                                               point: { feature: { draggable: true } } } })],
  });
  draw.start();
  draw.setMode("polygon");
  // the user's own drawing, not the page's (a perimeter opened, the shapes cleared) nor a
  // selection: those change no ring, or the page shows the saved contents itself
  draw.on("change", (ids, type, context) => {
    if (type !== "styling" && context?.origin !== "api" && context?.target !== "properties") schedulePreview();
  });
  draw.on("finish", (id, context) => {
    if (context?.action === "draw") {
      // one core shape at a time: the last drawn replaces the one before
      const older = shapes(draw).filter(feature => feature.id !== id).map(feature => feature.id);
      if (older.length) draw.removeFeatures(older);
    }
    save();
  });
  return draw;
}

// The drawn shapes, without terra-draw's guides (vertices, midpoints, closing points).
const shapes = draw => draw.getSnapshot().filter(feature => DRAWN_MODES.includes(feature.properties.mode)
  && !GUIDES.some(guide => feature.properties[guide]));

// The core as drawn now: the shape being drawn if there is one, else the one finished.
function coreShape() {
  const found = shapes(state.draw);
  return found.find(feature => feature.properties.currentlyDrawing) ?? found.at(-1) ?? null;
}

// Whether a shape (perhaps half drawn) is one the server can take: enough distinct points.
function complete(geometry) {
  const points = geometry.type === "Polygon" ? geometry.coordinates[0]
    : geometry.type === "LineString" ? geometry.coordinates : [geometry.coordinates];
  const distinct = new Set(points.map(point => point.join(","))).size;
  return distinct >= { Polygon: 3, LineString: 2, Point: 1 }[geometry.type];
}

function tools() {
  const modes = { polygon: "polygon", point: "point", route: "linestring", edit: "select" };
  const buttons = Object.entries(modes).map(([name, mode]) => button(t.draw[name], () => {
    state.mode = name;
    state.draw.setMode(mode);
    buttons.forEach(b => b.classList.toggle("active", b.dataset.mode === name));
    const core = name === "edit" && coreShape();
    if (core) state.draw.selectFeature(core.id);  // its vertices and midpoints, to drag
  }, { "data-mode": name, id: `draw-${name}`, class: name === "polygon" ? "active" : "" }));
  byId("draw-tools").replaceChildren(...buttons, button(t.draw.clear, () => state.draw.clear()));
}

const local = date => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function planForm() {
  const now = new Date();
  const field = (label, input) => [el("label", { for: input.id }, label), input];
  byId("plan").replaceChildren(
    ...field(t.name, el("input", { id: "plan-name", name: "name", required: true })),
    ...field(t.activity, el("input", { id: "plan-activity", name: "activity", type: "number", min: 1 })),
    ...field(t.startsAt, el("input", { id: "plan-starts", name: "starts", type: "datetime-local", value: local(now) })),
    ...field(t.endsAt, el("input", { id: "plan-ends", name: "ends", type: "datetime-local",
                                     value: local(new Date(now.getTime() + 8 * HOUR_MS)) })),
    ...field(t.buffer, el("input", { id: "plan-buffer", name: "buffer", type: "number", min: 1, value: 300 })),
    ...field(t.outerRings, el("input", { id: "plan-outer", name: "outer", value: "500,1500" })),
    el("button", { type: "submit" }, t.save));
  byId("plan").onsubmit = event => { event.preventDefault(); save(); };
  byId("plan").onchange = event => { if (["buffer", "outer"].includes(event.target.name)) save(); };
}

// The perimeter as the API takes it, from the form and the drawn core; null if none is drawn.
function perimeterBody(core = coreShape()) {
  if (!core) return null;
  const form = byId("plan");
  const buffer = Number(form.buffer.value);
  const ring = core.geometry.type === "Polygon" ? { polygon: core.geometry }
    : { around: core.geometry, buffer_m: buffer };
  const distances = form.outer.value.split(/[,，\s]+/).map(Number).filter(d => d > 0).slice(0, 2);
  return {
    name: form.name.value || t.title,
    activity_id: form.activity.value ? Number(form.activity.value) : null,
    starts_at: new Date(form.starts.value).toISOString(),
    ends_at: new Date(form.ends.value).toISOString(),
    rings: [{ kind: "core", ...ring },
            ...distances.map((d, i) => ({ kind: OUTER_KINDS[i], around_core_m: d }))],
  };
}

// After a pause in the drawing, ask what the rings drawn now would hold. One request at a
// time (the server bounds each user's spatial queries): a change made meanwhile asks again
// when the answer is in.
function schedulePreview() {
  clearTimeout(state.preview.timer);
  state.preview.timer = setTimeout(preview, PREVIEW_WAIT_MS);
  byId("contents").dataset.pending = "true";  // contents of a shape not yet asked about
}

function previewSettled() {
  const own = state.preview;
  if (!own.timer && !own.inFlight && !own.again) delete byId("contents").dataset.pending;
}

// Drop the preview in flight: a save's answer is newer than anything it can say.
function dropPreview() {
  clearTimeout(state.preview.timer);
  state.preview.timer = 0;
  state.preview.generation += 1;
  state.preview.inFlight?.abort();
  state.preview.again = false;
  delete byId("contents").dataset.pending;
}

async function preview() {
  const own = state.preview;
  own.timer = 0;
  if (own.inFlight) { own.again = true; return; }
  const core = coreShape();
  let body = null;
  try {
    body = core && complete(core.geometry) ? perimeterBody(core) : null;
  } catch {
    // a time not yet typed in whole: the save will say so
  }
  if (!body) return previewSettled();
  const generation = own.generation;
  const controller = own.inFlight = new AbortController();
  try {
    const response = await fetch("/api/perimeters/preview?layers=units&limit=10", {
      method: "POST", credentials: "same-origin", signal: controller.signal,
      headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (response.status === 401) reportUnauthorized(new ApiError(401, response.statusText));
    if (!response.ok || generation !== own.generation) return;  // a shape the save will judge
    const answer = await response.json();
    if (generation !== own.generation) return;
    showRings(answer.shapes);
    showContents(answer.rings, "preview");
  } catch {
    // aborted (a save came), or the network failed: the next change or the save will tell
  } finally {
    if (own.inFlight === controller) own.inFlight = null;
    if (own.again) { own.again = false; schedulePreview(); } else previewSettled();
  }
}

// Saves one after another: each PUT replaces the version the one before made.
function save() {
  dropPreview();
  state.saving = state.saving.then(async () => {
    dropPreview();
    const body = perimeterBody();
    if (!body) return say(t.drawFirst, "error");
    try {
      const saved = state.perimeter
        ? await api(`/api/perimeters/${state.perimeter.id}`, { method: "PUT", json: body, ifMatch: state.perimeter.version })
        : await api("/api/perimeters", { method: "POST", json: body });
      state.perimeter = saved;
      say(t.saved(saved.version));
      showRings(saved.rings);
      await Promise.all([readContents(saved), showHistory()]);
      showActions(saved);
    } catch (error) {
      say(failure(error), "error");
    }
  });
  return state.saving;
}

function showRings(rings) {
  const data = { type: "FeatureCollection", features: rings.map(ring => ({
    type: "Feature", geometry: ring.geometry, properties: { kind: ring.kind } })) };
  state.map.getSource("rings").setData(data);
}

function tally(groups, names) {
  return Object.entries(groups ?? {}).sort().map(([value, n]) => el("span", {}, `${names(value)} ${formatCount(n)}`));
}

// A preview given up on may still be counting on the server, holding one of the user's
// spatial query slots: a 429 is asked again shortly, not shown.
async function readContents(perimeter, tries = 4) {
  const generation = state.preview.generation;
  let answer;
  try {
    answer = await api(`/api/perimeters/${perimeter.id}/contents?layers=units&limit=10`);
  } catch (error) {
    if (error.status !== 429 || tries <= 1) throw error;
    await new Promise(resolve => setTimeout(resolve, 400));
    return readContents(perimeter, tries - 1);
  }
  if (generation === state.preview.generation) showContents(answer.rings, "saved");
}

// Each ring's units: count, by risk and category, the first ones. `source`: "saved" (the
// perimeter's version) or "preview" (the drawing as it is now, not yet saved).
function showContents(rings, source) {
  byId("contents").dataset.source = source;
  byId("contents").replaceChildren(
    el("h2", {}, t.contents, source === "preview" ? el("span", { class: "muted" }, ` · ${t.previewing}`) : ""),
    ...rings.map(ring => {
    const units = ring.layers.units;
    return el("div", { class: "ring", "data-kind": ring.kind, "data-count": units.count },
      el("h3", {}, el("span", { style: `color: ${RING_COLOURS[ring.kind]}` }, t.ring[ring.kind] ?? ring.title),
         el("span", {}, `${units.title} ${formatCount(units.count)}`)),
      el("div", { class: "tally" }, ...tally(units.groups.risk_level, f.risk)),
      el("div", { class: "tally" }, ...tally(units.groups.category, c => zh.unitCategories[c] ?? c)),
      el("ul", { class: "list" }, ...units.features.features.map(unit => el("li", {}, el("span", {}, unit.properties.name)))));
  }));
}

function showActions(perimeter) {
  const base = `/api/perimeters/${perimeter.id}`;
  const title = el("input", { id: "ring-task-title", placeholder: zh.officer.taskTitle });
  const noticeBody = el("textarea", { id: "ring-notice-body", placeholder: zh.officer.noticeBody, rows: 2 });
  const act = (path, json, done) => api(path, { method: "POST", json })
    .then(made => say(done(made)), error => say(failure(error), "error"));
  byId("actions").replaceChildren(
    el("h2", {}, zh.officer.batch),
    title, button(t.tasks, () => act(`${base}/tasks`, { task: { title: title.value || t.tasks } },
                                     made => zh.officer.tasksMade(made.count)), { id: "ring-tasks" }),
    noticeBody, button(t.notice, () => act(`${base}/notices`, {
      notice: { title: perimeter.name, body: noticeBody.value || perimeter.name } },
      () => zh.officer.noticeSent), { id: "ring-notice" }),
    el("h2", {}, t.briefing),
    el("div", { class: "row" }, ...["html", "png", "pdf"].map(kind => el("a", {
      class: "button", id: `briefing-${kind}`, href: `${base}/briefing.${kind}`,
      download: `${perimeter.name}.${kind}` }, t.briefingAs[kind]))),
    el("h2", {}, t.exports),
    el("div", { class: "row" }, ...EXPORTS.map(format => el("a", {
      class: "button", id: `export-${format}`, href: `${base}/export?format=${format}`,
      download: `${perimeter.name}.${format}` }, t.exportAs[format]))));
  byId("actions").hidden = false;
}

// Open a perimeter (as it is, or as it was at `version`) to revise it: its core is drawn again.
async function open(perimeterId, version) {
  const current = await api(`/api/perimeters/${perimeterId}`);
  const shown = version ? (await api(`/api/perimeters/${perimeterId}/versions/${version}`)).content : current;
  state.perimeter = current;  // a revision is saved over the current version
  const form = byId("plan");
  form.name.value = shown.name;
  form.activity.value = shown.activity_id ?? "";
  form.starts.value = local(new Date(shown.starts_at));
  form.ends.value = local(new Date(shown.ends_at));
  const core = shown.rings.find(ring => ring.kind === "core");
  const drawn = core.drawn;
  const geometry = drawn.polygon ?? drawn.around;
  if (drawn.buffer_m) form.buffer.value = drawn.buffer_m;
  form.outer.value = shown.rings.filter(ring => ring.kind !== "core").map(ring => ring.drawn.around_core_m).join(",");
  dropPreview();
  state.draw.clear();
  const mode = geometry.type === "Polygon" ? "polygon" : geometry.type === "Point" ? "point" : "linestring";
  state.draw.addFeatures([{ type: "Feature", geometry, properties: { mode } }]);
  showRings(current.rings);
  await Promise.all([readContents(current), showHistory()]);
  showActions(current);
}

async function showHistory() {
  const { data: perimeters } = await api("/api/perimeters");
  const versions = state.perimeter
    ? (await api(`/api/perimeters/${state.perimeter.id}/versions`)).data : [];
  byId("history").replaceChildren(
    el("h2", {}, t.perimeters),
    el("ul", { class: "list", id: "perimeters" }, ...perimeters.slice(0, 10).map(p => el("li", {},
      el("span", {}, `${p.name}（v${p.version}）`), button(t.open, () => open(p.id))))),
    el("h2", {}, t.versions),
    el("ul", { class: "list", id: "versions" }, ...versions.map(v => el("li", {},
      el("span", {}, `v${v.version} · ${v.saved_by} · ${formatTime(v.saved_at)}`),
      button(t.open, () => open(state.perimeter.id, v.version))))));
}

withSession(async () => {
  byId("heading").textContent = t.title;
  byId("logout").textContent = zh.auth.logout;
  const map = state.map = await createMap("map", { features: { only: ["units"] } });
  await addFeatureLayers(map, { only: ["units"] });
  map.addSource("rings", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  const colour = ["match", ["get", "kind"], ...Object.entries(RING_COLOURS).flat(), "#ffffff"];
  map.addLayer({ id: "rings-fill", type: "fill", source: "rings", paint: { "fill-color": colour, "fill-opacity": 0.08 } });
  map.addLayer({ id: "rings-line", type: "line", source: "rings", paint: { "line-color": colour, "line-width": 2 } });
  state.draw = window.warroomDraw = await startDraw(map);
  tools();
  planForm();
  await Promise.all([showHistory(), whenDrawn(map)]);
  document.body.dataset.ready = "true";  // interactive: the map drawn, the drawing, the history
  return () => { dropPreview(); state.draw.stop(); state.perimeter = null; removeMap(map); };
}, { title: t.title, shell: byId("sidebar"), logout: byId("logout") });
