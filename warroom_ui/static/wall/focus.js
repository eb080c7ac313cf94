// A new incident: the map flies there and shows what lies within the configured radius
// (/warroom?radius_m=1000): how many units, stations, sites, parks and vehicles, and the
// nearest units (POST /api/spatial/query, geodesic, nearest first). A circle marks the radius.
// The map cuts to the place and back, as a video wall does: an animated zoom would load and
// draw the tiles of every zoom level it passes (frames of 50-200 ms here).

import { api } from "../core/api.js";
import { el } from "../core/dom.js";
import { zh } from "../core/strings.js";

const t = zh.wall;

const NEAR_LAYERS = ["units", "rail_stations", "bus_stations", "key_station_areas",
                     "construction_sites", "parks", "vehicles"];
const HOLD_MS = 90_000;
const MOVE_AFTER_MS = 800;  // one focus at a time; the next new incident only pulses meanwhile

// A circle of `radiusM` around lon/lat as a GeoJSON polygon (64 vertices, local flat earth).
function circle([lon, lat], radiusM) {
  const k = Math.cos(lat * Math.PI / 180);
  const ring = Array.from({ length: 65 }, (_, i) => {
    const a = (i % 64) / 64 * 2 * Math.PI;
    return [lon + (radiusM * Math.cos(a)) / (111_320 * k), lat + (radiusM * Math.sin(a)) / 110_540];
  });
  return { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [ring] } };
}

/** Focus `map` on each fresh incident of `store`, with the contents of `radiusM` in `card`. */
export function focusOnFresh(map, store, card, { radiusM, layers, layerTitles }) {
  const asked = NEAR_LAYERS.filter(id => layers.includes(id));
  map.addSource("wall-focus", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "wall-focus-line", type: "line", source: "wall-focus",
                 paint: { "line-color": "#7fd4ff", "line-width": 2, "line-dasharray": [3, 2] } });
  let until = 0, home = null, timer = null;
  const release = () => {
    card.hidden = true;
    map.getSource("wall-focus").setData({ type: "FeatureCollection", features: [] });
    if (home) map.jumpTo(home);
    home = null;
  };
  store.on("fresh", async incident => {
    if (!incident || store.get("mode") !== "live" || Date.now() < until) return;
    until = Date.now() + HOLD_MS;
    home ??= { center: map.getCenter(), zoom: map.getZoom() };
    const centre = [incident.lon, incident.lat];
    map.getSource("wall-focus").setData(circle(centre, radiusM));
    // the new point is drawn where the map stands first, then the map moves to it
    setTimeout(() => map.jumpTo({ center: centre, zoom: 14.5 }), MOVE_AFTER_MS);
    clearTimeout(timer);
    timer = setTimeout(release, HOLD_MS);
    const answer = await api("/api/spatial/query", { method: "POST",
      json: { layers: asked, point: centre, radius_m: radiusM, limit: 5 } });
    const rows = asked.map(id => [layerTitles[id] || id, answer.layers[id]?.count ?? 0])
      .filter(([, n]) => n > 0);
    const nearest = (answer.layers.units?.features || []).map(f =>
      el("li", {}, el("span", {}, f.properties.name), el("span", {}, t.focus.metres(f.properties.distance_m))));
    // (replaceChildren would write a null as the text "null")
    card.replaceChildren(...[
      el("h2", {}, t.focus.title(incident.name, radiusM)),
      el("ul", {}, ...(rows.length ? rows.map(([title, n]) => el("li", {}, el("span", {}, title), el("span", {}, String(n))))
                                     : [el("li", {}, t.focus.none)])),
      nearest.length ? el("h2", {}, t.focus.nearest) : null,
      nearest.length ? el("ul", {}, ...nearest) : null].filter(Boolean));
    card.hidden = false;
  });
  store.on("mode", mode => { if (mode !== "live" && home) { clearTimeout(timer); release(); } });
}
