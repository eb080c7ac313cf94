// core/map.js — the one MapLibre map of every page: our TileJSON, our font, our worker, dark.
//
// Usage (a page is a few lines; /ui/ui.js is one):
//   import { createMap, addFeatureLayers, removeMap } from "/ui/core/map.js";
//   const map = await createMap("map");           // loaded, with the base map from our data
//   await addFeatureLayers(map, { switcher: document.getElementById("layers") });
//   attachPopups(map); attachSearch(element, map); // core/popup.js, core/search.js
//   ...
//   removeMap(map);                                // when the session ends (core/auth.js)
//
// Exports:
//   loadMapLibre()                  -> the maplibregl namespace (loaded once, from /ui/vendor/)
//   createMap(container, options)   -> a loaded maplibregl.Map with the base map (core/basemap.js)
//   whenDrawn(map)                  -> resolves once the view is drawn with all its tiles
//   refreshTiles(map)               -> every vector tile asked for anew (after a lost connection)
//   addFeatureLayers(map, options)  -> the layers added: every layer the user may read
//                                      (a source each, or one for all: `combine`)
//   addLayer(map, layer, options)   -> adds one layer's source (from its TileJSON) and styles
//   addLabels(map, layer, styles)   -> adds its labels on top of everything drawn so far
//   mapLayers(map)                  -> [{ layer, colour, ids, base }] of the layers on the map
//   layerOfSource(map, sourceId, sourceLayer) -> that entry, for a hit of queryRenderedFeatures
//   styleLayers(layer, colour), labelLayer(layer, colour) -> the default MapLibre style layers
//   removeMap(map)
//   layerTileJSON(layerId), registryLayers(map), internalLayerIds(map)
//   FONT, THEME, COLOURS, LAYER_COLOURS (core/theme.js)
//
// Nothing is fetched from anywhere but our origin: MapLibre and its CSP worker from npm (no
// blob: worker, api/headers.py), labels drawn with the page's font (Noto Sans SC from npm, no
// glyphs URL; only the font files its labels need), tiles from /tiles. A 401 on a tile ends the session like any API call.

import { api, reportUnauthorized } from "./api.js";
import { addBasemap, basemapTileSets, isBaseLayer } from "./basemap.js";
import { renderSwitcher } from "./layers.js";
import { COLOURS, FONT, LAYER_COLOURS, THEME } from "./theme.js";

export { COLOURS, FONT, LAYER_COLOURS, THEME };

const VENDOR = "/ui/vendor/maplibre";
const BEIJING = [[115.42, 39.44], [117.51, 41.06]];
// map -> { layers: the /api/layers list, entries: Map(layer id -> entry) }
const state = new WeakMap();

let loading = null;

/** Load MapLibre's CSP build (once) and point it at our worker file; resolve with maplibregl. */
export function loadMapLibre() {
  loading ??= new Promise((resolve, reject) => {
    const css = `${VENDOR}/maplibre-gl.css`;
    if (![...document.querySelectorAll("link")].some(link => link.href.endsWith(css))) {
      document.head.append(Object.assign(document.createElement("link"),
                                         { rel: "stylesheet", href: css }));
    }
    if (window.maplibregl) return resolve(window.maplibregl);
    const script = Object.assign(document.createElement("script"),
                                 { src: `${VENDOR}/maplibre-gl-csp.js` });
    script.onload = () => resolve(window.maplibregl);
    script.onerror = () => reject(new Error(`${VENDOR}/maplibre-gl-csp.js did not load`));
    document.head.append(script);
  }).then(gl => {
    gl.setWorkerUrl(`${VENDOR}/maplibre-gl-csp-worker.js`);
    return gl;
  });
  return loading;
}

// MapLibre draws label glyphs on a canvas (no glyphs URL: every glyph is drawn locally, in the
// page's font), and a canvas uses only font files already loaded: a glyph drawn before its file
// came would be drawn, and kept, in a fallback font. So before each batch of glyphs is drawn,
// load the font's files that cover those characters (~10 of its ~100 for a city's labels), not
// every file before the map starts (4.6 MB, seconds of a wall's start).
function loadGlyphsFirst(map) {
  const glyphs = map.style?.glyphManager;
  if (!glyphs || glyphs.fontFirst) return;
  glyphs.fontFirst = true;
  const draw = glyphs.getGlyphs.bind(glyphs);
  glyphs.getGlyphs = async stacks => {
    const text = String.fromCodePoint(...new Set(Object.values(stacks).flat()));
    await document.fonts.load(`24px "${FONT}"`, text).catch(() => {});
    return draw(stacks);
  };
}

function union(extents) {
  const boxes = extents.filter(Boolean);
  if (!boxes.length) return BEIJING;
  return [[Math.min(...boxes.map(b => b[0])), Math.min(...boxes.map(b => b[1]))],
          [Math.max(...boxes.map(b => b[2])), Math.max(...boxes.map(b => b[3]))]];
}

// The style the map starts with: our dark background, under an internal tile service's
// raster tiles if one is configured (WARROOM_MAP_BASEMAP_*); a style URL is used as it is.
function startStyle(basemap) {
  if (basemap.kind === "style") return basemap.url;
  const style = { version: 8, sources: {}, layers: [
    { id: "background", type: "background", paint: { "background-color": THEME.background } }] };
  if (basemap.kind === "raster") {
    const url = basemap.url.startsWith("/") ? location.origin + basemap.url : basemap.url;
    style.sources["internal-tiles"] = { type: "raster", tiles: [url],
                                        tileSize: basemap.tile_size };
    style.layers.push({ id: "internal-tiles", type: "raster", source: "internal-tiles",
                        paint: { "raster-opacity": 0.85 } });
  }
  return style;
}

/**
 * Create the page's map in `container` (an element or its id) and resolve once it is loaded
 * with the base map drawn from our own data (districts, precincts, parks: core/basemap.js).
 *
 * options: `bounds` ([[w, s], [e, n]]; default: around every feature the user may see),
 * `basemap` (false: none), `controls` (false: no zoom buttons and scale), `global` (false:
 * not kept as window.warroomMap for consoles and browser tests), `features` (the options the
 * page will give addFeatureLayers: their TileJSON is asked for now, with the base map's), and
 * any MapLibre option.
 */
export async function createMap(container, { bounds, basemap = true, controls = true,
                                             global = true, features, ...options } = {}) {
  // The map starts at once, over Beijing, while the registry and the settings are read: its
  // WebGL start overlaps the requests, and the view moves to the data before the first tile.
  const read = Promise.all([api("/api/layers").then(answer => {
    // every TileJSON the page will want, asked for side by side as soon as the list is known
    const ids = [...(basemap ? basemapTileSets(answer.data) : []),
                 ...(features ? tileSets(answer.data, features) : [])];
    ids.forEach(id => layerTileJSON(id).catch(() => {}));  // a failure is told when added
    return answer;
  }), api("/api/map/config")]);
  const gl = await loadMapLibre();
  const map = new gl.Map({
    container,
    style: startStyle({ kind: "none" }),
    bounds: bounds ?? BEIJING,
    fitBoundsOptions: { padding: 40 },
    attributionControl: false,
    localIdeographFontFamily: FONT,
    ...options,
  });
  loadGlyphsFirst(map);
  map.on("styledata", () => loadGlyphsFirst(map));  // a style set later has its own glyphs
  map.on("error", ({ error }) => {
    if (error?.status === 401) reportUnauthorized(error);
    // Status 0: the server could not be reached (the page's connection banner says so).
    else if (error?.status === 0) console.warn(`map data unreachable: ${error.url}`);
    else console.error(error);  // what MapLibre logs when nobody listens
  });
  const loaded = new Promise(resolve => map.once("load", resolve));
  let layers, config;
  try {
    [{ data: layers }, config] = await read;
  } catch (error) {
    map.remove();
    throw error;
  }
  state.set(map, { layers, entries: new Map() });
  if (!bounds) map.fitBounds(union(layers.filter(l => l.count > 0).map(l => l.extent)),
                             { padding: 40, duration: 0 });
  if (controls) {
    map.addControl(new gl.NavigationControl(), "top-right");
    map.addControl(new gl.ScaleControl(), "bottom-left");
  }
  if (global) window.warroomMap = map;
  await loaded;
  await useBasemapService(map, config.basemap);
  // What the internal tile service drew (its raster, or its style's layers): one switch.
  state.get(map).internalIds = map.getStyle().layers.map(l => l.id).filter(id => id !== "background");
  if (basemap) await addBasemap(map, layers.filter(layer => isBaseLayer(layer.id)));
  return map;
}

// Put the internal tile service (WARROOM_MAP_BASEMAP_*) under the map: its raster tiles above
// the background, or its style in place of ours.
async function useBasemapService(map, basemap) {
  if (basemap.kind === "style") {
    map.setStyle(basemap.url, { diff: false });
    await new Promise(resolve => map.once("style.load", resolve));
  } else if (basemap.kind === "raster") {
    const { sources, layers } = startStyle(basemap);
    Object.entries(sources).forEach(([id, source]) => map.addSource(id, source));
    layers.filter(layer => layer.id !== "background").forEach(layer => map.addLayer(layer));
  }
}

/**
 * Resolve once the map has drawn its view with every tile of it loaded: what a page calls
 * interactive (its first screen drawn, not only asked for).
 */
export function whenDrawn(map) {
  return new Promise(resolve => {
    const drawn = () => {
      if (!map.loaded()) return;
      map.off("render", drawn);
      resolve(map);
    };
    map.on("render", drawn);
    map.triggerRepaint();
  });
}

/**
 * Ask every vector-tile source of the map for its tiles anew, those on screen kept until their
 * new ones come: after the connection came back, a tile that failed meanwhile would stay blank.
 */
export function refreshTiles(map) {
  for (const [id, source] of Object.entries(map.getStyle().sources)) {
    if (source.type === "vector") map.refreshTiles(id);
  }
}

/** Remove the map (no tile is asked for after this) and forget it as window.warroomMap. */
export function removeMap(map) {
  if (window.warroomMap === map) window.warroomMap = null;
  map.remove();
}

/** Return the registry list (/api/layers) the map was made with, counts and extents included. */
export const registryLayers = map => state.get(map).layers;

/** Return the style layers the internal tile service draws (none: our own data only). */
export const internalLayerIds = map => state.get(map).internalIds;

/** Return the layers on the map: [{ layer, colour, ids (its style layers), base }]. */
export const mapLayers = map => [...state.get(map).entries.values()];

/**
 * Return the entry of the layer drawn from `sourceId` (its own source) or, in a combined
 * source, from its `sourceLayer`; undefined for anything else (a page's own GeoJSON).
 */
export const layerOfSource = (map, sourceId, sourceLayer) => {
  const entries = state.get(map)?.entries;
  return entries?.get(sourceId) ?? (sourceLayer ? entries?.get(sourceLayer) : undefined);
};

// The page's TileJSON answers by layer id: each is asked for once (its tiles' address and zoom
// range do not change while the page is open), the base map's as soon as the registry is read.
const tilejsons = new Map();

/** Return the TileJSON of a layer (/tiles/<id>.json), asked for once per page. */
export function layerTileJSON(layerId) {
  if (!tilejsons.has(layerId)) {
    tilejsons.set(layerId, api(`/tiles/${encodeURIComponent(layerId)}.json`).catch(error => {
      tilejsons.delete(layerId);  // asked again next time
      throw error;
    }));
  }
  return tilejsons.get(layerId);
}

/**
 * Add one registry layer: its vector-tile source from its TileJSON (fetched unless given;
 * its bounds left out, so a feature added later outside them is still drawn) and its `styles`
 * (MapLibre style layers), hidden if the layer has no features. Resolve with its entry.
 */
export async function addLayer(map, layer, { styles, colour, base = false, beforeId,
                                             tilejson } = {}) {
  const source = styles[0]?.source ?? layer.id;  // a combined source is there already
  if (!map.getSource(source)) {
    tilejson ??= await layerTileJSON(layer.id);
    map.addSource(source, { type: "vector", tiles: tilejson.tiles,
                            minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom });
  }
  styles.forEach(style => map.addLayer(style, beforeId));
  if (layer.count === 0) styles.forEach(style => map.setLayoutProperty(style.id, "visibility", "none"));
  const entry = { layer, colour, base, ids: styles.map(style => style.id) };
  state.get(map).entries.set(layer.id, entry);
  return entry;
}

/** Add label (or any) style layers of a layer already added, on top; they switch with it. */
export function addLabels(map, layer, styles) {
  const entry = state.get(map).entries.get(layer.id);
  styles.forEach(style => {
    map.addLayer(style);
    if (layer.count === 0) map.setLayoutProperty(style.id, "visibility", "none");
    entry.ids.push(style.id);
  });
}

/** Return the default style layers of a registry layer: areas, lines or (clustered) points. */
export function styleLayers(layer, colour) {
  const common = { source: layer.id, "source-layer": layer.id };
  if (layer.geometry_type.endsWith("Polygon")) {
    return [
      // no antialiased edge: the line drawn on it is the edge (one shader fewer to compile)
      { id: `${layer.id}-fill`, type: "fill", ...common,
        paint: { "fill-color": colour, "fill-opacity": 0.12, "fill-antialias": false } },
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
    "circle-stroke-color": ["step", hazard, THEME.background, 1, "#ffb300", 3, "#ff1744"],
    "circle-stroke-width": ["step", hazard, 0.5, 1, 2],
    "circle-radius": ["interpolate", ["linear"], ["sqrt", count], 1, 3, 30, 14],
  } }];
}

/**
 * Return the label layer of a registry layer with a name (cluster points have none, so only
 * single features are labelled), in the page's font: every glyph is drawn locally.
 */
export function labelLayer(layer, colour, { minzoom = 0 } = {}) {
  const area = layer.geometry_type.endsWith("Polygon");
  return { id: `${layer.id}-label`, type: "symbol", source: layer.id, "source-layer": layer.id,
    minzoom,
    layout: { "text-field": ["get", "name"], "text-font": [FONT], "text-size": area ? 14 : 12,
              "text-max-width": 8, "text-anchor": area ? "center" : "top",
              "text-offset": area ? [0, 0] : [0, 0.7] },
    paint: { "text-color": area ? colour : THEME.text, "text-halo-color": THEME.background,
             "text-halo-width": 1.2 } };
}

const named = layer => layer.attributes.some(attribute => attribute.name === "name");
// Where a layer's names start to show: stations from the city view on (they are the map's
// landmarks), the dense layers only close up, where they no longer cover each other.
const LABEL_MINZOOM = { units: 14, bus_stations: 15, vehicles: 14, incidents: 13 };
// Areas below lines below points, whatever the registry's order.
const RANK = type => type.endsWith("Polygon") ? 0 : type.endsWith("LineString") ? 1 : 2;

// The business layers addFeatureLayers draws of the registry list `all`, areas first.
function chosenLayers(all, { only, except = [] }) {
  const chosen = all.filter(layer => !isBaseLayer(layer.id) && !except.includes(layer.id)
                                     && (!only || only.includes(layer.id)));
  return chosen.sort((a, b) => RANK(a.geometry_type) - RANK(b.geometry_type));
}

// The TileJSON ids addFeatureLayers asks for: one per layer, or one for all ("a,b,c").
function tileSets(all, { combine = false, ...which }) {
  const ids = chosenLayers(all, which).map(layer => layer.id);
  return combine && ids.length ? [ids.join(",")] : ids;
}

/** The source of addFeatureLayers' layers when combined: one tile a place for all of them. */
export const FEATURES_SOURCE = "features";

/**
 * Add every business layer the user may read (all of /api/layers but the base map's) with
 * the default styles, labels above every shape; a layer with no features starts hidden.
 * options: `only` / `except` (layer ids), `switcher` (an element: the layer switcher is
 * drawn into it, base map included, see core/layers.js), `combine` (true: every layer from
 * one source, FEATURES_SOURCE, its tiles holding them all: a tenth of the requests of a
 * source per layer, for a page that shows them all, such as the wall; a feature's layer is
 * then its `sourceLayer`). Resolve with mapLayers(map).
 */
export async function addFeatureLayers(map, { only, except = [], switcher, combine = false } = {}) {
  const all = registryLayers(map);
  const ranked = chosenLayers(all, { only, except });
  const colourOf = layer => LAYER_COLOURS[layer.id] ?? COLOURS[all.indexOf(layer) % COLOURS.length];
  const sets = tileSets(all, { only, except, combine });
  const tilejsons = await Promise.all(sets.map(layerTileJSON));
  const onSource = combine
    ? style => ({ ...style, source: FEATURES_SOURCE })
    : style => style;
  if (combine && ranked.length) {
    const [tilejson] = tilejsons;
    map.addSource(FEATURES_SOURCE, { type: "vector", tiles: tilejson.tiles,
                                     minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom });
  }
  for (const [i, layer] of ranked.entries()) {
    const colour = colourOf(layer);
    await addLayer(map, layer, { colour, styles: styleLayers(layer, colour).map(onSource),
                                 tilejson: combine ? undefined : tilejsons[i] });
  }
  // Labels above every shape, so no area covers a station's name.
  ranked.filter(named).forEach(layer => addLabels(map, layer, [
    onSource(labelLayer(layer, colourOf(layer), { minzoom: LABEL_MINZOOM[layer.id] ?? 0 }))]));
  if (switcher) renderSwitcher(switcher, map);
  return mapLayers(map);
}
