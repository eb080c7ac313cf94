// core/layers.js — the layer switcher: every layer on the map switchable, base map included.
//
// Usage:
//   await addFeatureLayers(map, { switcher: listElement });  // core/map.js draws it for you
//   renderSwitcher(listElement, map);                         // or draw (again) into a <ul>
//   map.addControl(new LayerSwitcher(), "top-left");          // or as a MapLibre control
//   setLayerVisible(map, "incidents", false);                 // and from code
//
// Each layer is one <li>: a checkbox #layer-<id>, its colour, and a label "title（count）".

import { el } from "./dom.js";
import { internalLayerIds, mapLayers, registryLayers } from "./map.js";
import { zh } from "./strings.js";

const INTERNAL = "internal-tiles";

function styleIdsOf(map, layerId) {
  if (layerId === INTERNAL) return internalLayerIds(map);
  return mapLayers(map).find(entry => entry.layer.id === layerId)?.ids ?? [];
}

/** Show or hide every style layer of the layer `layerId` (and tick its checkbox, if any). */
export function setLayerVisible(map, layerId, visible) {
  styleIdsOf(map, layerId).forEach(id =>
    map.setLayoutProperty(id, "visibility", visible ? "visible" : "none"));
  const box = document.getElementById(`layer-${layerId}`);
  if (box) box.checked = visible;
}

/** Return whether the layer `layerId` is shown. */
export function isLayerVisible(map, layerId) {
  const [first] = styleIdsOf(map, layerId);
  return first !== undefined && map.getLayoutProperty(first, "visibility") !== "none";
}

function item(map, layerId, title, colour) {
  const box = el("input", { type: "checkbox", id: `layer-${layerId}`,
                            onchange: event => setLayerVisible(map, layerId, event.target.checked) });
  box.checked = isLayerVisible(map, layerId);
  const swatch = el("span", { class: "swatch" });
  swatch.style.background = colour;
  return el("li", {}, box, swatch, el("label", { for: box.id }, title));
}

const titled = ({ layer }) => `${layer.title}（${zh.layers.count(layer.count, layer.count_is_estimate)}）`;

/** Draw the switcher into `list` (a <ul>, emptied first): base map, then business layers. */
export function renderSwitcher(list, map) {
  const entries = mapLayers(map);
  const base = entries.filter(entry => entry.base);
  const business = entries.filter(entry => !entry.base)
    .sort((a, b) => registryOrder(map, a) - registryOrder(map, b));
  const internal = internalLayerIds(map).length
    ? [item(map, INTERNAL, zh.layers.internalTiles, "#607d8b")] : [];
  list.replaceChildren(
    el("li", { class: "group" }, zh.layers.base), ...internal,
    ...base.map(entry => item(map, entry.layer.id, titled(entry), entry.colour)),
    el("li", { class: "group" }, zh.layers.business),
    ...business.map(entry => item(map, entry.layer.id, titled(entry), entry.colour)),
  );
}

const registryOrder = (map, entry) => registryLayers(map).indexOf(entry.layer);

/** The switcher as a MapLibre control (onAdd/onRemove), for pages without a side panel. */
export class LayerSwitcher {
  /** Return the control's element, the switcher of `map`'s layers drawn in it. */
  onAdd(map) {
    this.list = el("ul", { class: "maplibregl-ctrl layer-switcher" });
    renderSwitcher(this.list, map);
    return this.list;
  }

  /** Take the control off its map. */
  onRemove() {
    this.list.remove();
  }
}
