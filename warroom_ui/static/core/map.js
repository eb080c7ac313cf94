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
//   addFeatureLayers(map, options)  -> the layers added: every layer the user may read
//   addLayer(map, layer, options)   -> adds one layer's source (from its TileJSON) and styles
//   addLabels(map, layer, styles)   -> adds its labels on top of everything drawn so far
//   mapLayers(map)                  -> [{ layer, colour, ids, base }] of the layers on the map
//   layerOfSource(map, sourceId)    -> that entry, for a hit of queryRenderedFeatures
//   styleLayers(layer, colour), labelLayer(layer, colour) -> the default MapLibre style layers
//   removeMap(map)
//   layerTileJSON(layerId), registryLayers(map), internalLayerIds(map)
//   FONT, THEME, COLOURS, LAYER_COLOURS (core/theme.js)
//
// Nothing is fetched from anywhere but our origin: MapLibre and its CSP worker from npm (no
// blob: worker, api/headers.py), labels drawn with the page's font (Noto Sans SC from npm, no
// glyphs URL), tiles from /tiles. A 401 on a tile ends the session like any API call.

import { api, reportUnauthorized } from "./api.js";
import { addBasemap, isBaseLayer } from "./basemap.js";
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

// MapLibre draws label glyphs on a canvas, which uses only font files already loaded (a
// glyph drawn before is kept): load every slice of the map's font before the map starts.
function loadFont() {
  const faces = [...document.fonts].filter(face => face.family.replace(/["']/g, "") === FONT);
  return Promise.allSettled(faces.map(face => face.load()));
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
 * not kept as window.warroomMap for consoles and browser tests), and any MapLibre option.
 */
export async function createMap(container, { bounds, basemap = true, controls = true,
                                             global = true, ...options } = {}) {
  const [gl, { data: layers }, config] = await Promise.all([
    loadMapLibre(), api("/api/layers"), api("/api/map/config"), loadFont()]);
  const map = new gl.Map({
    container,
    style: startStyle(config.basemap),
    bounds: bounds ?? union(layers.filter(l => l.count > 0).map(l => l.extent)),
    fitBoundsOptions: { padding: 40 },
    attributionControl: false,
    localIdeographFontFamily: FONT,
    ...options,
  });
  state.set(map, { layers, entries: new Map() });
  map.on("error", ({ error }) => {
    if (error?.status === 401) reportUnauthorized(error);
    // Status 0: the server could not be reached (the page's connection banner says so).
    else if (error?.status === 0) console.warn(`map data unreachable: ${error.url}`);
    else console.error(error);  // what MapLibre logs when nobody listens
  });
  if (controls) {
    map.addControl(new gl.NavigationControl(), "top-right");
    map.addControl(new gl.ScaleControl(), "bottom-left");
  }
  if (global) window.warroomMap = map;
  await new Promise(resolve => map.once("load", resolve));
  // What the internal tile service drew (its raster, or its style's layers): one switch.
  state.get(map).internalIds = map.getStyle().layers.map(l => l.id).filter(id => id !== "background");
  if (basemap) await addBasemap(map, layers.filter(layer => isBaseLayer(layer.id)));
  return map;
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

/** Return the entry of the layer whose source is `sourceId`, or undefined. */
export const layerOfSource = (map, sourceId) => state.get(map)?.entries.get(sourceId);

/** Return the TileJSON of a layer (/tiles/<id>.json). */
export const layerTileJSON = layerId => api(`/tiles/${encodeURIComponent(layerId)}.json`);

/**
 * Add one registry layer: its vector-tile source from its TileJSON (fetched unless given;
 * its bounds left out, so a feature added later outside them is still drawn) and its `styles`
 * (MapLibre style layers), hidden if the layer has no features. Resolve with its entry.
 */
export async function addLayer(map, layer, { styles, colour, base = false, beforeId,
                                             tilejson } = {}) {
  tilejson ??= await layerTileJSON(layer.id);
  map.addSource(layer.id, { type: "vector", tiles: tilejson.tiles,
                            minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom });
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

/**
 * Add every business layer the user may read (all of /api/layers but the base map's) with
 * the default styles, labels above every shape; a layer with no features starts hidden.
 * options: `only` / `except` (layer ids), `switcher` (an element: the layer switcher is
 * drawn into it, base map included, see core/layers.js). Resolve with mapLayers(map).
 */
export async function addFeatureLayers(map, { only, except = [], switcher } = {}) {
  const all = registryLayers(map);
  const chosen = all.filter(layer => !isBaseLayer(layer.id) && !except.includes(layer.id)
                                     && (!only || only.includes(layer.id)));
  const colourOf = layer => LAYER_COLOURS[layer.id] ?? COLOURS[all.indexOf(layer) % COLOURS.length];
  const ranked = [...chosen].sort((a, b) => RANK(a.geometry_type) - RANK(b.geometry_type));
  const tilejsons = await Promise.all(ranked.map(layer => layerTileJSON(layer.id)));
  for (const [i, layer] of ranked.entries()) {
    const colour = colourOf(layer);
    await addLayer(map, layer, { colour, styles: styleLayers(layer, colour), tilejson: tilejsons[i] });
  }
  // Labels above every shape, so no area covers a station's name.
  ranked.filter(named).forEach(layer => addLabels(map, layer, [
    labelLayer(layer, colourOf(layer), { minzoom: LABEL_MINZOOM[layer.id] ?? 0 })]));
  if (switcher) renderSwitcher(switcher, map);
  return mapLayers(map);
}
