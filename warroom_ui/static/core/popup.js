// core/popup.js — feature popups: a click shows the feature's attributes, titled as its layer
// titles them; a click on a cluster (a point that stands for many) zooms in instead.
//
// Usage:
//   attachPopups(map);                                   // after addFeatureLayers(map)
//   showFeaturePopup(map, "units", 42, [116.4, 39.9]);   // from code (core/search.js does)
//
// Attributes come from GET /api/layers/<layer>/features/<id> (personal ones masked by the
// server); empty values are left out.

import { api } from "./api.js";
import { el } from "./dom.js";
import { layerOfSource } from "./map.js";
import { zh } from "./strings.js";

const present = value => value !== null && value !== undefined && value !== ""
  && !(Array.isArray(value) && value.length === 0);

const shown = value => typeof value === "boolean" ? (value ? zh.yes : zh.no)
  : Array.isArray(value) ? value.join("、") : String(value);

/** Return a table of a feature's attributes, titled as `layer` (an /api/layers entry) titles them. */
export function attributeTable(layer, properties) {
  const rows = [[zh.popup.layer, layer.title],
                ...layer.attributes.map(a => [a.title, properties[a.name]])];
  return el("table", { class: "attributes" }, ...rows.filter(([, value]) => present(value))
    .map(([title, value]) => el("tr", {}, el("td", {}, title), el("td", {}, shown(value)))));
}

/** Open a popup at `lngLat` with the attributes of feature `featureId` of layer `layerId`. */
export async function showFeaturePopup(map, layerId, featureId, lngLat) {
  const { layer } = layerOfSource(map, layerId);
  const popup = new window.maplibregl.Popup({ maxWidth: "320px" }).setLngLat(lngLat);
  try {
    const feature = await api(`/api/layers/${layer.id}/features/${featureId}`);
    popup.setDOMContent(attributeTable(layer, feature.properties));
  } catch (error) {
    popup.setText(`${zh.popup.failed}${error.message}`);
  }
  return popup.addTo(map);
}

/** Show a popup for what is clicked on `map` (the topmost of our layers); zoom into clusters. */
export function attachPopups(map) {
  map.on("click", event => {
    const hit = map.queryRenderedFeatures(event.point)
      .find(f => layerOfSource(map, f.source, f.sourceLayer));
    if (!hit) return;
    const { layer } = layerOfSource(map, hit.source, hit.sourceLayer);
    const id = hit.id ?? hit.properties.id;
    if (id === undefined || hit.properties.count > 1) {
      new window.maplibregl.Popup({ maxWidth: "320px" }).setLngLat(event.lngLat)
        .setText(zh.popup.cluster(layer.title, hit.properties.count ?? 1)).addTo(map);
      map.easeTo({ center: event.lngLat, zoom: map.getZoom() + 2 });
      return;
    }
    showFeaturePopup(map, layer.id, id, event.lngLat);
  });
}
