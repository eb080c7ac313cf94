// /tourism: the tourism dashboard (issue #18.7) on the shared core. Parks coloured by the
// level their occupancy reached (feature state `level` on the base map's parks), visitor
// flows as arcs brightening towards the park, a chosen park's tour vehicles and its day
// against capacity (ECharts), and the alert list, live from the stream's tourism.alert
// events (each one also reloads the occupancy behind the colours). The colours, arcs and
// readers are core/tourism.js's, which the wall's tourism overlay draws with too.

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { BASE_SOURCE } from "./core/basemap.js";
import { barChart } from "./core/charts.js";
import { el, formatTime } from "./core/dom.js";
import { createMap, removeMap } from "./core/map.js";
import { EventStream } from "./core/stream.js";
import { zh } from "./core/strings.js";
import { LEVEL_COLOURS, REFRESH_MS, alertText, asArcs, colourByLevel, flowPaint, readFlows,
         readOccupancy } from "./core/tourism.js";

const t = zh.tourism;
const byId = id => document.getElementById(id);
const PARKS = { source: BASE_SOURCE, sourceLayer: "parks" };

// a park's fill by the level in its feature state; parks without counts stay dim
const byLevel = fallback => colourByLevel(["feature-state", "level"], fallback);

function styleParks(map) {
  // above the districts' dark fill, which the base map lays over its parks
  ["parks-fill", "parks-line"].forEach(id => map.moveLayer(id, "districts-line"));
  map.setPaintProperty("parks-fill", "fill-color", byLevel("#3f8f5a"));
  map.setPaintProperty("parks-fill", "fill-opacity",
                       ["case", ["==", ["coalesce", ["feature-state", "level"], ""], ""], 0.2, 0.7]);
  map.setPaintProperty("parks-line", "line-color", byLevel("#3f8f5a"));
}

function addOverlays(map) {
  const empty = { type: "FeatureCollection", features: [] };
  map.addSource("flows", { type: "geojson", data: empty, lineMetrics: true });
  map.addLayer({ id: "flows-line", type: "line", source: "flows",
    layout: { "line-cap": "round" }, paint: flowPaint() });
  map.addSource("tour-vehicles", { type: "geojson", data: empty });
  map.addLayer({ id: "tour-vehicles-point", type: "circle", source: "tour-vehicles",
    paint: { "circle-radius": 5, "circle-color": "#4db6ac", "circle-stroke-width": 1.5,
             "circle-stroke-color": "#0b1220" } });
}

// a level's colour on an element (through the CSSOM: the CSP refuses style attributes)
function coloured(element, level, property = "background") {
  element.style[property] = LEVEL_COLOURS[level];
  return element;
}

const swatch = level => coloured(el("i", { class: "swatch" }), level);

function drawLegend() {
  byId("legend").replaceChildren(el("span", {}, t.legend), ...Object.keys(LEVEL_COLOURS).map(
    level => el("span", {}, swatch(level), t.levels[level])));
}

function alertItem(alert) {
  return coloured(el("li", { "data-park": alert.park_id },
    alertText(alert), " ",
    el("span", { class: "muted" }, formatTime(alert.at))), alert.level, "borderColor");
}

async function start() {
  byId("heading").textContent = t.title;
  byId("logout").textContent = t.logout;
  byId("alerts-title").textContent = t.alerts;
  byId("chart-title").textContent = t.chart;
  byId("parks-title").textContent = t.parks;
  byId("chart-park").textContent = t.pick;
  drawLegend();
  const chart = barChart(byId("chart"), { series: [
    { name: t.visitors, type: "line", colour: "#4fc3f7" },
    { name: t.capacity, type: "line", colour: "#e53935" }] });
  const map = await createMap("map");
  styleParks(map);
  addOverlays(map);
  let chosen = null;

  const choose = async parkId => {
    chosen = parkId;
    const [curve, tied] = await Promise.all([api(`/api/tourism/parks/${parkId}/occupancy`),
                                             api(`/api/tourism/parks/${parkId}/vehicles`)]);
    byId("chart-park").textContent = `${curve.name} · ${t.vehicles(tied.count)}`;
    chart.update(curve.buckets.map(at => formatTime(at).split(" ").pop().slice(0, 5)),
                 [curve.visitors, curve.buckets.map(() => curve.capacity)]);
    map.getSource("tour-vehicles").setData({ type: "FeatureCollection", features: tied.data.map(v => (
      { type: "Feature", geometry: { type: "Point", coordinates: [v.lon, v.lat] },
        properties: { name: v.name, plate: v.plate } })) });
  };

  const loadOccupancy = async () => {
    const { data } = await readOccupancy();
    for (const park of data) map.setFeatureState({ ...PARKS, id: park.park_id }, { level: park.level });
    const ranked = [...data].sort((a, b) => (b.ratio ?? 0) - (a.ratio ?? 0));
    byId("parks").replaceChildren(...ranked.slice(0, 30).map(park => el("li",
      { "data-park": park.park_id, "data-level": park.level, onclick: () => choose(park.park_id) },
      swatch(park.level),
      el("span", { class: "name" }, park.name), el("span", {}, t.ratio(park.ratio)))));
    if (chosen ?? ranked[0]) await choose(chosen ?? ranked[0].park_id);
  };

  const loadAlerts = async () => {
    const { data } = await api("/api/tourism/alerts?limit=20");
    const list = byId("alerts");
    list.replaceChildren(...data.map(alertItem));
    if (!data.length) list.append(el("li", { class: "muted" }, t.noAlerts));
  };

  map.getSource("flows").setData(asArcs(await readFlows()));
  await Promise.all([loadOccupancy(), loadAlerts()]);
  map.on("click", "parks-fill", event => choose(event.features[0].id));

  const stream = new EventStream({
    types: "tourism",
    onEvents: events => {
      const alerts = events.filter(event => event.type === "tourism.alert");
      if (!alerts.length) return;
      const list = byId("alerts");
      list.querySelector("li.muted")?.remove();
      list.prepend(...alerts.reverse().map(event => alertItem({ park_id: event.feature_id, ...event.payload })));
      chosen = alerts[0].feature_id;  // the latest alert's park: its curve in the chart
      loadOccupancy().catch(error => console.error(error));
    },
    onStatus: status => {
      byId("live").className = `live ${status}`;
      byId("live").textContent = t.live[status] || "";
    },
  });
  stream.start();
  const timer = setInterval(() => loadOccupancy().catch(error => console.error(error)), REFRESH_MS);
  document.body.dataset.ready = "true";  // for the browser test
  return () => {
    stream.stop();
    clearInterval(timer);
    chart.dispose();
    delete document.body.dataset.ready;
    removeMap(map);
  };
}

withSession(start, { title: t.title, shell: byId("sidebar"), logout: byId("logout") });
