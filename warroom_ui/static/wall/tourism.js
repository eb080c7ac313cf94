// The wall's tourism overlay (issue #18.7): parks coloured by the level their occupancy
// ratio reached (the fuller, the more opaque) and visitor flows as arcs brightening towards
// the park, drawn as the /tourism dashboard draws them (core/tourism.js). Live: a
// tourism.alert on the wall's stream reads the occupancy anew at once, and it is read every
// minute besides (occupancy moves without alerts too); flows (hourly volumes, partly
// derived from tour buses' tracks when read) every five minutes.
// Each overlay is one of wall/overlays.js's (OVERLAYS), with `source` (its GeoJSON source's
// options) and `attach(map, store)` (what feeds its store topic until the map is removed).

import { zh } from "../core/strings.js";
import { LEVEL_COLOURS, REFRESH_MS, asArcs, colourByLevel, flowPaint, readFlows, readOccupancy,
         readParkShapes } from "../core/tourism.js";

const t = zh.tourism;
const UNCOUNTED = "#3f8f5a";  // a park no counter reports on
const FLOWS_MS = 5 * 60000;

// Put `ids` under the wall overlay layer `under` (if it is there): the wall adds ours last,
// on top, and parks' fills there would dim the incidents and vehicles drawn above them.
function beneath(map, ids, under) {
  if (map.getLayer(under)) ids.forEach(id => map.moveLayer(id, under));
}

// Call `load` now, then every `ms` and whenever the function returned is called, until the
// map goes.
function every(map, load, ms = REFRESH_MS) {
  const run = () => load().catch(error => console.error(error));
  const timer = setInterval(run, ms);
  map.once("remove", () => clearInterval(timer));
  run();
  return run;
}

// Park outlines (read once) with each park's level and ratio now, into the store.
function followParks(map, store, topic) {
  let shapes = null;
  const reload = every(map, async () => {
    shapes ??= await readParkShapes();
    const { data } = await readOccupancy();
    const now = new Map(data.map(park => [park.park_id, park]));
    store.set(topic, { type: "FeatureCollection", features: shapes.features.map(park => ({
      type: "Feature", id: park.id, geometry: park.geometry,
      properties: { name: park.properties.name, level: now.get(park.id)?.level ?? "",
                    ratio: now.get(park.id)?.ratio ?? 0 } })) });
  });
  store.on("tourismAlert", () => reload());  // the wall's stream brought one (wall/feeds.js)
}

function parksOverlay() {
  const id = "wall-tourism-parks";
  const colour = colourByLevel(["get", "level"], UNCOUNTED);
  return {
    id, title: t.parks, colour: LEVEL_COLOURS.red, topic: id, square: true,
    legendTitle: t.legend,
    legend: Object.entries(LEVEL_COLOURS).map(([level, c]) => [t.levels[level], c]),
    layers: u => [
      { id: `${id}-fill`, type: "fill", source: id, paint: { "fill-color": colour,
        "fill-opacity": ["interpolate", ["linear"], ["get", "ratio"], 0, 0.2, 1, 0.75] } },
      { id: `${id}-line`, type: "line", source: id,
        paint: { "line-color": colour, "line-width": 1.5 * u } },
    ],
    data: parks => parks,
    attach: (map, store) => {
      beneath(map, [`${id}-fill`, `${id}-line`], "wall-risk-fill");
      followParks(map, store, id);
    },
  };
}

function flowsOverlay() {
  const id = "wall-tourism-flows";
  return {
    id, title: zh.wall.overlays.tourism, colour: "#4fc3f7", topic: id, line: true,
    source: { lineMetrics: true },  // for the gradient that shows each arc's direction
    layers: u => [{ id: `${id}-line`, type: "line", source: id, layout: { "line-cap": "round" },
                    paint: flowPaint(u) }],
    data: arcs => arcs,
    attach: (map, store) => {
      beneath(map, [`${id}-line`], "wall-tasks-point");
      every(map, async () => store.set(id, asArcs(await readFlows())), FLOWS_MS);
    },
  };
}

/** The tourism overlays of the wall, bottom first. */
export const tourismOverlays = () => [parksOverlay(), flowsOverlay()];
