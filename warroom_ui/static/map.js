// The war-room map: log in, list the layers the user may see, draw their vector tiles.
// Talks to the API over HTTP only (session cookie); no base map, no remote fonts: labels are
// drawn by MapLibre itself (no `glyphs` URL) with the page's own font, served by the app.
"use strict";

// The page's Content-Security-Policy has no blob: workers: MapLibre's CSP build starts its
// worker from this file of ours instead (api/headers.py).
maplibregl.setWorkerUrl("vendor/maplibre/maplibre-gl-csp-worker.js");

const FONT = "Noto Sans SC Variable";  // @font-face from npm @fontsource-variable/noto-sans-sc

const COLOURS = ["#4fc3f7", "#ffb74d", "#e57373", "#81c784", "#ba68c8", "#fff176",
                 "#4db6ac", "#f06292", "#a1887f", "#90a4ae"];
const BEIJING = [[115.42, 39.44], [117.51, 41.06]];

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const error = new Error(body.detail || body.message || response.statusText);
    error.status = response.status;
    throw error;
  }
  return response.status === 204 ? null : response.json();
}

function styleLayers(layer, colour) {
  const source = layer.id;
  const common = { source, "source-layer": layer.id };
  if (layer.geometry_type.endsWith("Polygon")) {
    return [
      { id: `${layer.id}-fill`, type: "fill", ...common,
        paint: { "fill-color": colour, "fill-opacity": 0.12 } },
      { id: `${layer.id}-line`, type: "line", ...common,
        paint: { "line-color": colour, "line-width": 1.2 } },
    ];
  }
  if (layer.geometry_type.endsWith("LineString")) {
    return [{ id: `${layer.id}-line`, type: "line", ...common,
              paint: { "line-color": colour, "line-width": 2 } }];
  }
  // Below a layer's point zoom a tile holds one point per occupied cell, with a count.
  const count = ["coalesce", ["get", "count"], 1];
  // Open hazards ring a point (a cluster: its members' highest level): levels 1-2 amber, 3-4 red.
  const hazard = ["coalesce", ["get", "hazard_level"], ["get", "max_hazard_level"], 0];
  return [{ id: `${layer.id}-point`, type: "circle", ...common, paint: {
    "circle-color": colour, "circle-opacity": 0.85,
    "circle-stroke-color": ["step", hazard, "#0b1220", 1, "#ffb300", 3, "#ff1744"],
    "circle-stroke-width": ["step", hazard, 0.5, 1, 2],
    "circle-radius": ["interpolate", ["linear"], ["sqrt", count], 1, 3, 30, 14],
  } }];
}

// Names from the tiles, in the page's font (every glyph drawn locally: text-font is a CSS
// family). Cluster points have no name, so only single features are labelled.
function labelLayer(layer, colour) {
  const area = layer.geometry_type.endsWith("Polygon");
  return { id: `${layer.id}-label`, type: "symbol", source: layer.id, "source-layer": layer.id,
    layout: { "text-field": ["get", "name"], "text-font": [FONT], "text-size": area ? 14 : 12,
              "text-max-width": 8, "text-anchor": area ? "center" : "top",
              "text-offset": area ? [0, 0] : [0, 0.7] },
    paint: { "text-color": area ? colour : "#e5e9f0", "text-halo-color": "#0b1220",
             "text-halo-width": 1.2 } };
}

const named = layer => layer.attributes.some(attribute => attribute.name === "name");

function union(extents) {
  const boxes = extents.filter(Boolean);
  if (!boxes.length) return BEIJING;
  return [[Math.min(...boxes.map(b => b[0])), Math.min(...boxes.map(b => b[1]))],
          [Math.max(...boxes.map(b => b[2])), Math.max(...boxes.map(b => b[3]))]];
}

// Areas below lines below points, whatever the registry's order.
const RANK = type => type.endsWith("Polygon") ? 0 : type.endsWith("LineString") ? 1 : 2;

function showLayers(map, layers) {
  const styles = new Map(layers.map((layer, i) =>
    [layer.id, styleLayers(layer, COLOURS[i % COLOURS.length])]));
  const labels = new Map(layers.flatMap((layer, i) => named(layer)
    ? [[layer.id, labelLayer(layer, COLOURS[i % COLOURS.length])]] : []));
  const ranked = [...layers].sort((a, b) => RANK(a.geometry_type) - RANK(b.geometry_type));
  ranked.forEach(layer => {
    map.addSource(layer.id, {
      type: "vector", minzoom: 0, maxzoom: 22,
      tiles: [`${location.origin}/tiles/${layer.id}/{z}/{x}/{y}.mvt`],
    });
    styles.get(layer.id).forEach(style => map.addLayer(style));
  });
  // Labels above every shape, so no area covers a station's name.
  ranked.filter(layer => labels.has(layer.id)).forEach(layer => {
    map.addLayer(labels.get(layer.id));
    styles.get(layer.id).push(labels.get(layer.id));
  });
  const list = document.getElementById("layers");
  list.replaceChildren();
  layers.forEach((layer, i) => {
    const ids = styles.get(layer.id).map(style => style.id);
    const visible = layer.count > 0;
    ids.forEach(id => map.setLayoutProperty(id, "visibility", visible ? "visible" : "none"));
    const item = document.createElement("li");
    const box = Object.assign(document.createElement("input"),
                              { type: "checkbox", checked: visible, id: `layer-${layer.id}` });
    box.addEventListener("change", () => ids.forEach(id =>
      map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none")));
    const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
    swatch.style.background = COLOURS[i % COLOURS.length];
    const label = Object.assign(document.createElement("label"), {
      htmlFor: box.id,
      textContent: `${layer.title}（${layer.count_is_estimate ? "约" : ""}${layer.count}）`,
    });
    item.append(box, swatch, label);
    list.append(item);
  });
}

// A click on a feature shows its attributes, as the layer titles them; on a cluster, zooms in.
function explainClicks(map, layers) {
  const byId = new Map(layers.map(layer => [layer.id, layer]));
  map.on("click", async event => {
    const hit = map.queryRenderedFeatures(event.point).find(f => byId.has(f.source));
    if (!hit) return;
    const layer = byId.get(hit.source);
    const popup = new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(event.lngLat);
    const id = hit.id ?? hit.properties.id;
    if (id === undefined || hit.properties.count > 1) {
      popup.setText(`${layer.title}：${hit.properties.count ?? 1} 个，放大查看`).addTo(map);
      map.easeTo({ center: event.lngLat, zoom: map.getZoom() + 2 });
      return;
    }
    try {
      const feature = await api(`/api/layers/${layer.id}/features/${id}`);
      const table = document.createElement("table");
      const rows = [["图层", layer.title],
                    ...layer.attributes.map(a => [a.title, feature.properties[a.name]])];
      const present = value => value !== null && value !== undefined && value !== ""
        && !(Array.isArray(value) && value.length === 0);
      rows.filter(([, value]) => present(value))
        .forEach(([title, value]) => {
          const row = table.insertRow();
          row.insertCell().textContent = title;
          row.insertCell().textContent = typeof value === "boolean" ? (value ? "是" : "否")
            : Array.isArray(value) ? value.join("、") : String(value);
        });
      popup.setDOMContent(table).addTo(map);
    } catch (error) {
      popup.setText(`无法读取要素：${error.message}`).addTo(map);
    }
  });
}

// MapLibre draws label glyphs on a canvas, which uses only font files already loaded (a
// glyph drawn before is kept): load every slice of the map's font before the map starts.
function loadFont() {
  const faces = [...document.fonts].filter(face => face.family.replace(/["']/g, "") === FONT);
  return Promise.allSettled(faces.map(face => face.load()));
}

let shownMap = null;

function showLogin() {
  document.getElementById("sidebar").hidden = true;
  document.getElementById("login").reset();
  document.getElementById("login-error").textContent = "";
  document.getElementById("login").hidden = false;
}

async function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("sidebar").hidden = false;
  const [{ data: layers }] = await Promise.all([api("/api/layers"), loadFont()]);
  const map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [
      { id: "background", type: "background", paint: { "background-color": "#0b1220" } }] },
    bounds: union(layers.filter(l => l.count > 0).map(l => l.extent)),
    fitBoundsOptions: { padding: 40 },
    attributionControl: false,
    localIdeographFontFamily: FONT,
  });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");
  shownMap = window.warroomMap = map;  // for operators' consoles and the browser tests
  map.on("load", () => { showLayers(map, layers); explainClicks(map, layers); });
  map.on("idle", () => {
    document.getElementById("status").textContent = `缩放级别 ${map.getZoom().toFixed(1)}`;
  });
}

// The map goes first, so no tile is asked for after the session has ended.
document.getElementById("logout").addEventListener("click", async () => {
  shownMap?.remove();
  shownMap = window.warroomMap = null;
  await api("/api/auth/logout", { method: "POST" }).catch(() => {});
  showLogin();
});

// First what the session must do (account.js), one step at a time, then the map.
async function proceed(required) {
  if (!required) return start();
  await showAccountStep(required);
  return proceed((await api("/api/auth/me")).required);
}

document.getElementById("login").addEventListener("submit", async event => {
  event.preventDefault();
  const form = new FormData(event.target);
  const credentials = { username: form.get("username"), password: form.get("password") };
  if (form.get("totp_code")) credentials.totp_code = form.get("totp_code");
  try {
    const session = await api("/api/auth/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(credentials),
    });
    await proceed(session.required);
  } catch (error) {
    document.getElementById("login-error").textContent = error.status === 401
      ? "登录失败：用户名、密码或动态口令错误" : `登录失败：${error.message}`;
  }
});

// A session cookie from before goes straight on; the probe answers 200 either way, so a
// visitor who is not logged in sees the form and no failed request.
api("/api/auth/session")
  .then(session => session.authenticated ? api("/api/auth/me").then(me => proceed(me.required))
                                         : showLogin())
  .catch(showLogin);
