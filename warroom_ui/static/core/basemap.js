// core/basemap.js — the default background, drawn from our own data: no base-map URL.
//
// The city's parks, districts, water, precincts, roads and rail lines (registry layers, from
// our vector tiles) are styled as a dark base map: parks green, district boundaries and
// names, water deep blue and named from zoom 10, precinct boundaries dashed and named from
// zoom 11, roads thin and muted (expressways and ring roads a little brighter), rail lines in
// their own colours (the `colour` attribute), named along the line from zoom 12. Water and
// lines lie above the districts' fill and under every name (docs/basemap.md). An internal
// tile service (the bureau's GIS server) can lie under it: WARROOM_MAP_BASEMAP_URL, read by
// core/map.js from GET /api/map/config.
//
// All of them come from one vector source (BASE_SOURCE), each tile holding every base layer:
// a sixth of the tile requests of a source per layer; district, precinct and water names come
// from low-zoom tiles of their own layer (see LABEL_TILE_ZOOM).
//
// Exports:
//   BASE_LAYERS              -> the registry layers drawn as base map, bottom first
//   BASE_SOURCE              -> the id of their source (a feature's layer: its sourceLayer)
//   isBaseLayer(layerId)     -> whether core/map.js leaves that layer to the base map
//   basemapTileSets(layers)  -> the TileJSON ids the base map asks for (createMap asks early)
//   addBasemap(map, layers)  -> adds them (createMap calls it; a page need not)

import { addLabels, addLayer, layerTileJSON } from "./map.js";
import { FONT, THEME } from "./theme.js";

/** The registry layers the base map draws, bottom first. */
export const BASE_LAYERS = ["parks", "districts", "water", "precincts", "roads", "rail_lines"];

/** The source every base map layer is drawn from. */
export const BASE_SOURCE = "basemap";

/** Return whether the layer `layerId` is drawn as base map (not as a business layer). */
export const isBaseLayer = layerId => BASE_LAYERS.includes(layerId);

const PARK = "#3f8f5a";
const DISTRICT = "#5d7199";
const PRECINCT = "#3a4868";
const WATER = "#1d3f63";
// Roads warm grey, so that they never read as the boundaries' blue.
const ROAD = "#413f39";
const MAJOR_ROAD = "#66604f";
const RAIL = "#c8553d"; // the switcher's swatch; each line is drawn in its own colour
const RAIL_FALLBACK = "#8a93a6"; // a line without a colour
const RAIL_LABEL = "#b8c2d6"; // light on dark: some lines' own colours are dark (2号线)
const width = (low, high) => ["interpolate", ["linear"], ["zoom"], 8, low, 14, high];

// A polygon's name is placed once per tile it lies in: a district across four tiles would be
// named four times. Its labels read tiles of at most this zoom instead (drawn overzoomed),
// each holding the whole area, so each is named once; the anchor is exact enough for a name.
const LABEL_TILE_ZOOM = { districts: 2, precincts: 8, water: 8 };
const labelSource = layer => (layer.id in LABEL_TILE_ZOOM ? `${layer.id}-labels` : BASE_SOURCE);

function label(layer, colour, size, zoom) {
  return { id: `${layer.id}-label`, type: "symbol", source: labelSource(layer), "source-layer": layer.id,
    ...zoom,
    layout: { "text-field": ["get", "name"], "text-font": [FONT], "text-size": size,
              "text-max-width": 8 },
    paint: { "text-color": colour, "text-halo-color": THEME.background, "text-halo-width": 1.5 } };
}

// layer id -> { colour (its switcher swatch), shapes(layer), labels(layer) }
const STYLES = {
  parks: {
    colour: PARK,
    shapes: layer => [
      { id: "parks-fill", type: "fill", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "fill-color": PARK, "fill-opacity": 0.3 } },
      { id: "parks-line", type: "line", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "line-color": PARK, "line-width": width(0.5, 1.5), "line-opacity": 0.8 } },
    ],
    labels: layer => [label(layer, "#8cc79c", 12, { minzoom: 12 })],
  },
  districts: {
    colour: DISTRICT,
    shapes: layer => [
      { id: "districts-fill", type: "fill", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "fill-color": THEME.panel, "fill-opacity": 0.55 } },
      { id: "districts-line", type: "line", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "line-color": DISTRICT, "line-width": width(1.2, 3) } },
    ],
    labels: layer => [label(layer, "#9fb0d4", 16, { maxzoom: 11 })],
  },
  precincts: {
    colour: PRECINCT,
    shapes: layer => [
      { id: "precincts-line", type: "line", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "line-color": PRECINCT, "line-width": width(0.4, 1.2),
                 "line-dasharray": [3, 2] } },
    ],
    labels: layer => [label(layer, "#7687a8", 12, { minzoom: 11, maxzoom: 14 })],
  },
  water: {
    colour: WATER,
    shapes: layer => [
      { id: "water-fill", type: "fill", source: BASE_SOURCE, "source-layer": layer.id,
        paint: { "fill-color": WATER, "fill-opacity": 0.95 } },
    ],
    labels: layer => [label(layer, "#7fa8d6", 12, { minzoom: 10 })],
  },
  roads: {
    colour: ROAD,
    shapes: layer => [
      { id: "roads-line", type: "line", source: BASE_SOURCE, "source-layer": layer.id,
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["match", ["get", "kind"], ["expressway", "ring_road"], MAJOR_ROAD, ROAD],
                 "line-width": ["interpolate", ["linear"], ["zoom"], 8,
                                ["match", ["get", "kind"], ["expressway", "ring_road"], 1.2, 0.6],
                                14, ["match", ["get", "kind"], ["expressway", "ring_road"], 4, 2]],
                 "line-opacity": 0.9 } },
    ],
    labels: () => [],
  },
  rail_lines: {
    colour: RAIL,
    shapes: layer => [
      { id: "rail_lines-line", type: "line", source: BASE_SOURCE, "source-layer": layer.id,
        layout: { "line-cap": "round", "line-join": "round" },
        paint: { "line-color": ["coalesce", ["get", "colour"], RAIL_FALLBACK],
                 "line-width": width(1.6, 4), "line-opacity": 0.9 } },
    ],
    labels: layer => [{
      id: "rail_lines-label", type: "symbol", source: BASE_SOURCE, "source-layer": layer.id, minzoom: 12,
      layout: { "symbol-placement": "line", "text-field": ["get", "name"], "text-font": [FONT],
                "text-size": 12 },
      paint: { "text-color": RAIL_LABEL, "text-halo-color": THEME.background,
               "text-halo-width": 1.5 } }],
  },
};

// The base map layers among `layers` (entries of /api/layers), bottom first.
const presentIn = layers => BASE_LAYERS.map(id => layers.find(layer => layer.id === id)).filter(Boolean);

/** Return the TileJSON ids the base map of `layers` asks for: all in one, then the named areas'. */
export function basemapTileSets(layers) {
  const present = presentIn(layers);
  if (!present.length) return [];
  return [present.map(layer => layer.id).join(","),
          ...present.filter(layer => layer.id in LABEL_TILE_ZOOM).map(layer => layer.id)];
}

/**
 * Add the base map layers among `layers` (entries of /api/layers): their source from the
 * TileJSON of them all, areas under boundaries, and their names above both (under business
 * layers).
 */
export async function addBasemap(map, layers) {
  const present = presentIn(layers);
  if (!present.length) return;
  const [all, ...named] = await Promise.all(basemapTileSets(layers).map(layerTileJSON));
  map.addSource(BASE_SOURCE, { type: "vector", tiles: all.tiles, minzoom: all.minzoom,
                               maxzoom: all.maxzoom });
  for (const layer of present) {
    const { colour, shapes } = STYLES[layer.id];
    await addLayer(map, layer, { colour, styles: shapes(layer), base: true });
  }
  present.filter(layer => layer.id in LABEL_TILE_ZOOM).forEach((layer, i) => {
    map.addSource(labelSource(layer), { type: "vector", tiles: named[i].tiles, minzoom: 0,
                                        maxzoom: LABEL_TILE_ZOOM[layer.id] });
  });
  present.forEach(layer => addLabels(map, layer, STYLES[layer.id].labels(layer)));
}
