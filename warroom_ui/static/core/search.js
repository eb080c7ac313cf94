// core/search.js — one search box over every layer (GET /api/search): names, addresses,
// plates and codes; picking a result flies the map there and opens the feature's popup.
//
// Usage:
//   attachSearch(document.getElementById("search"), map);  // draws the box into the element
//   jumpTo(map, hit);                                      // a hit of /api/search, from code
//
// Keys: typing searches (after a short pause), Enter picks the first result, Escape clears.

import { api } from "./api.js";
import { el } from "./dom.js";
import { layerOfSource } from "./map.js";
import { showFeaturePopup } from "./popup.js";
import { zh } from "./strings.js";

const PAUSE_MS = 250;
const LIMIT = 8;

/** Fly to a search hit ({layer, id, location}) and open its popup once there. */
export function jumpTo(map, hit) {
  const area = layerOfSource(map, hit.layer)?.layer.geometry_type.endsWith("Polygon");
  map.flyTo({ center: hit.location, zoom: Math.max(map.getZoom(), area ? 12 : 16), essential: true });
  map.once("moveend", () => {
    if (layerOfSource(map, hit.layer)) showFeaturePopup(map, hit.layer, hit.id, hit.location);
  });
}

/** Draw the search box into `container` (emptied first); its results jump on `map`. */
export function attachSearch(container, map) {
  const input = el("input", { type: "search", name: "q", maxlength: 100, autocomplete: "off",
                              placeholder: zh.search.placeholder, "aria-label": zh.search.placeholder });
  const results = el("ul", { class: "search-results" });
  const note = el("p", { class: "muted" });
  let hits = [];
  let asked = 0;

  const pick = hit => {
    results.replaceChildren();
    note.textContent = "";
    jumpTo(map, hit);
  };
  const show = answer => {
    hits = answer.data;
    results.replaceChildren(...hits.map(hit => el("li", {},
      el("button", { type: "button", onclick: () => pick(hit) },
         hit.name, el("span", { class: "muted" }, ` ${hit.layer_title}`)))));
    note.textContent = hits.length
      ? (answer.count > hits.length ? zh.search.more(hits.length, answer.count, answer.count_is_exact) : "")
      : zh.search.none;
  };
  const search = async () => {
    const q = input.value.trim();
    const mine = ++asked;  // an older answer arriving late is dropped
    if (!q) { hits = []; results.replaceChildren(); note.textContent = ""; return; }
    try {
      const answer = await api(`/api/search?${new URLSearchParams({ q, limit: LIMIT })}`);
      if (mine === asked) show(answer);
    } catch (error) {
      if (mine === asked) note.textContent = `${zh.search.failed}${error.message}`;
    }
  };
  let timer;
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, PAUSE_MS); });
  input.addEventListener("keydown", async event => {
    if (event.key === "Escape") { input.value = ""; search(); }
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(timer);
    await search();
    if (hits.length) pick(hits[0]);
  });
  container.replaceChildren(input, results, note);
}
