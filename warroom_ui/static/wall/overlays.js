// The wall's own map layers, drawn from the store (GeoJSON sources, styled from data by
// MapLibre expressions): incidents (fresh ones pulse), tasks by state with overdue ringed,
// risk as H3 hexagons by level, active perimeters, moving vehicles and their relations.
// Each overlay is one switch; OVERLAYS is the slot list another module adds to (tourism).

import { el } from "../core/dom.js";
import { zh } from "../core/strings.js";
import { tourismOverlays } from "./tourism.js";

const t = zh.wall;

const LEVEL_COLOURS = ["#ffe082", "#ffb74d", "#ff7043", "#ff1744"];  // incident level 1-4
const RISK_COLOURS = ["#2e7d32", "#f9a825", "#ef6c00", "#c62828"];  // mean risk level 1-4
const RING_COLOURS = { core: "#ff5252", control: "#ffab40", outer: "#ffee58" };
const VEHICLE_COLOURS = { police: "#40c4ff", taxi: "#ffd740", rental: "#b2ff59",
                          bus: "#e040fb", tour_bus: "#64ffda", other: "#b0bec5" };
const TASK_COLOURS = ["#90caf9", "#80cbc4", "#a5d6a7", "#fff59d", "#ce93d8", "#f48fb1", "#bcaaa4"];
const RELATION_REACH_M = 3000;
const MAX_PULSING = 20;  // the newest fresh incidents pulse; older fresh ones are marked only

const collection = features => ({ type: "FeatureCollection", features });
const point = (item, properties) => ({ type: "Feature", id: item.id, properties,
  geometry: { type: "Point", coordinates: [item.lon, item.lat] } });

// Ground distance in metres between two lon/lat points (equirectangular: a few km only).
function metres(a, b) {
  const k = Math.cos(((a.lat + b.lat) / 2) * Math.PI / 180);
  return Math.hypot((a.lon - b.lon) * k, a.lat - b.lat) * 111_320;
}

// The scale of drawn sizes: 1 at 16 px text, following the wall's root font size.
const unit = () => parseFloat(getComputedStyle(document.documentElement).fontSize) / 16;

function incidentsOverlay() {
  return {
    id: "wall-incidents", title: t.overlays.incidents, colour: LEVEL_COLOURS[2], topic: "incidents",
    layers: u => [
      { id: "wall-incidents-point", type: "circle", source: "wall-incidents",
        paint: { "circle-color": ["match", ["get", "level"], 0, "#e8edf5", 1, LEVEL_COLOURS[0],
                                  2, LEVEL_COLOURS[1], 3, LEVEL_COLOURS[2], LEVEL_COLOURS[3]],
                 "circle-radius": ["interpolate", ["linear"], ["zoom"], 9, 3.5 * u, 15, 7 * u],
                 "circle-stroke-color": "#070c17", "circle-stroke-width": 1 } },
    ],
    data: items => collection([...items.values()].map(i => point(i, {
      level: i.level, status: i.status, name: i.name }))),
  };
}

function tasksOverlay(stages) {
  const open = stages.filter(s => !s.closed);
  const colour = ["match", ["get", "state"],
                  ...open.flatMap((s, i) => [s.state, TASK_COLOURS[i % TASK_COLOURS.length]]), "#cfd8dc"];
  return {
    id: "wall-tasks", title: t.overlays.tasks, colour: TASK_COLOURS[0], topic: "tasks",
    legendTitle: t.legend.tasks, legend: open.map((s, i) => [s.title, TASK_COLOURS[i % TASK_COLOURS.length]]),
    layers: u => [{ id: "wall-tasks-point", type: "circle", source: "wall-tasks", paint: {
      "circle-color": colour, "circle-radius": 2.5 * u, "circle-opacity": 0.9,
      "circle-stroke-color": ["case", ["get", "overdue"], "#ff1744", "#070c17"],
      "circle-stroke-width": ["case", ["get", "overdue"], 1.2 * u, 0.5] } }],
    data: items => collection([...items.values()].filter(i => i.lon !== undefined)
      .map(i => point(i, { state: i.state, overdue: i.overdue }))),
  };
}

function riskOverlay() {
  const mean = ["/", ["coalesce", ["get", "sum"], 0], ["max", ["get", "count"], 1]];
  return {
    id: "wall-risk", title: t.overlays.risk, colour: RISK_COLOURS[3], topic: "risk", square: true,
    legendTitle: t.legend.risk, legend: t.riskLevels.map((title, i) => [title, RISK_COLOURS[i]]),
    layers: () => [{ id: "wall-risk-fill", type: "fill", source: "wall-risk", paint: {
      "fill-color": ["step", mean, RISK_COLOURS[0], 1.5, RISK_COLOURS[1], 2.25, RISK_COLOURS[2],
                     3, RISK_COLOURS[3]],
      "fill-opacity": 0.35, "fill-antialias": false } }],  // no outline: nothing drawn for it
    data: hexes => hexes,
  };
}

function perimetersOverlay() {
  const colour = ["match", ["get", "ring"], "core", RING_COLOURS.core, "control", RING_COLOURS.control,
                  RING_COLOURS.outer];
  return {
    id: "wall-perimeters", title: t.overlays.perimeters, colour: RING_COLOURS.core, topic: "perimeters",
    square: true,
    legendTitle: t.legend.rings,
    legend: Object.entries(RING_COLOURS).map(([ring, c]) => [t.rings[ring], c]),
    layers: u => [
      { id: "wall-perimeters-fill", type: "fill", source: "wall-perimeters",
        paint: { "fill-color": colour, "fill-opacity": 0.08, "fill-antialias": false } },
      { id: "wall-perimeters-line", type: "line", source: "wall-perimeters",
        paint: { "line-color": colour, "line-width": 2 * u } },
    ],
    data: perimeters => collection(perimeters.flatMap(p => p.rings.map(ring => ({
      type: "Feature", geometry: ring.geometry, properties: { ring: ring.kind, name: p.name } })))),
  };
}

// A police vehicle serves, until dispatch is recorded, the nearest open incident it can reach
// soon (within RELATION_REACH_M): the line a commander reads as "who is going".
function relations(vehicles, incidents) {
  const open = [...(incidents?.values() || [])].filter(i => i.status !== "closed");
  const lines = [];
  for (const vehicle of vehicles.values()) {
    if (vehicle.kind !== "police" || !open.length) continue;
    const nearest = open.reduce((best, i) => (metres(vehicle, i) < metres(vehicle, best) ? i : best));
    if (metres(vehicle, nearest) > RELATION_REACH_M) continue;
    lines.push({ type: "Feature", properties: {}, geometry: { type: "LineString",
      coordinates: [[vehicle.lon, vehicle.lat], [nearest.lon, nearest.lat]] } });
  }
  return lines;
}

// Vehicles and their relations come from one source (one reload a second as they move),
// each drawn by its own layer and switched on its own.
function vehiclesOverlay(store) {
  const colour = ["match", ["get", "kind"],
                  ...Object.entries(VEHICLE_COLOURS).flatMap(([kind, c]) => [kind, c]), "#b0bec5"];
  return {
    id: "wall-vehicles", title: t.overlays.vehicles, colour: VEHICLE_COLOURS.police, topic: "vehicles",
    layers: u => [{ id: "wall-vehicles-point", type: "circle", source: "wall-vehicles",
      filter: ["==", ["geometry-type"], "Point"], paint: {
      "circle-color": colour, "circle-radius": 3.5 * u,
      "circle-stroke-color": "#e8edf5", "circle-stroke-width": 1 } }],
    data: vehicles => collection([...relations(vehicles, store.get("incidents")),
                                  ...[...vehicles.values()].map(i => point(i, { kind: i.kind }))]),
  };
}

function relationsOverlay() {
  return {
    id: "wall-relations", title: t.overlays.relations, colour: "#40c4ff", line: true,
    layers: u => [{ id: "wall-relations-line", type: "line", source: "wall-vehicles",
                    filter: ["==", ["geometry-type"], "LineString"],
                    paint: { "line-color": "#40c4ff", "line-width": 1.5 * u,
                             "line-dasharray": [2, 1.5] } }],
  };
}

/** The overlays of the wall, bottom first; a module may push its own before showOverlays. */
export const OVERLAYS = [...tourismOverlays()];

/** Add every overlay to `map`, fed by `store`; return [{overlay, ids}] for switches and legend. */
export function showOverlays(map, store, { taskStages }) {
  const u = unit();
  const overlays = [riskOverlay(), perimetersOverlay(), tasksOverlay(taskStages),
                    relationsOverlay(), vehiclesOverlay(store), incidentsOverlay(), ...OVERLAYS];
  // an overlay without data of its own draws another's source (relations: the vehicles')
  overlays.filter(overlay => overlay.data).forEach(overlay => map.addSource(overlay.id,
    { type: "geojson", data: collection([]), ...overlay.source }));
  const shown = overlays.map(overlay => {
    const layers = overlay.layers(u);
    layers.forEach(layer => map.addLayer(layer));
    if (overlay.data) store.on(overlay.topic, value => map.getSource(overlay.id).setData(overlay.data(value)));
    overlay.attach?.(map, store);  // an overlay that feeds its own topic (tourism)
    return { overlay, ids: layers.map(layer => layer.id) };
  });
  pulse(map, store);
  return shown;
}

// Fresh incidents pulse: a ring that grows and fades, 1.5 s a beat (no flashing), drawn as a
// CSS animation on a marker, so the browser's compositor runs it and the map is not redrawn.
function pulse(map, store) {
  const markers = new Map();  // incident id -> maplibregl.Marker
  store.on("incidents", items => {
    const now = Date.now();
    const fresh = [...items.values()].filter(i => i.freshUntil > now)
      .sort((a, b) => b.freshUntil - a.freshUntil).slice(0, MAX_PULSING);
    const keep = new Set(fresh.map(i => i.id));
    for (const [id, marker] of markers) {
      if (!keep.has(id)) { marker.remove(); markers.delete(id); }
    }
    for (const item of fresh) {
      const marker = markers.get(item.id) ?? new window.maplibregl.Marker(
        { element: el("div", {}, el("div", { class: "pulse" })) }).setLngLat([item.lon, item.lat]).addTo(map);
      marker.setLngLat([item.lon, item.lat]);
      markers.set(item.id, marker);
    }
  });
  // a pulse ends when its incident is no longer fresh
  setInterval(() => { if (markers.size) store.touch("incidents"); }, 15_000);
}

function switchItem(map, { overlay, ids }) {
  const box = el("input", { type: "checkbox", id: `layer-${overlay.id}`, checked: true,
    onchange: event => ids.forEach(id =>
      map.setLayoutProperty(id, "visibility", event.target.checked ? "visible" : "none")) });
  return el("li", {}, box, swatch(overlay.colour, overlay), el("label", { for: box.id }, overlay.title));
}

function swatch(colour, { square = false, line = false, ring = false } = {}) {
  const shape = square ? " square" : line ? " line" : ring ? " ring" : "";
  const element = el("span", { class: `swatch${shape}` });
  if (ring) element.style.borderColor = colour;
  else element.style.background = colour;
  return element;
}

/** Add the overlays' switches to the layer switcher `list` (after the map's own layers). */
export function addSwitches(list, map, shown) {
  list.append(el("li", { class: "group" }, t.overlays.group), ...shown.map(s => switchItem(map, s)));
}

/** Draw the legend: incident levels and overdue, then each overlay's own (risk, rings, states). */
export function drawLegend(element, shown) {
  const groups = [
    [t.legend.incidents, [...LEVEL_COLOURS.map((c, i) => [t.incidentLevel(i + 1), c, {}]),
                          [t.overdue, "#ff1744", { ring: true }]]],
    ...shown.filter(({ overlay }) => overlay.legend).map(({ overlay }) => [overlay.legendTitle,
      overlay.legend.map(([title, c]) => [title, c, { square: Boolean(overlay.square) }])]),
  ];
  element.replaceChildren(...groups.flatMap(([caption, rows]) => [
    el("span", { class: "caption" }, caption),
    ...rows.flatMap(([title, colour, shape]) => [swatch(colour, shape), el("span", {}, title)])]));
}
