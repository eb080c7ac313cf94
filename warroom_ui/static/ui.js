// /ui/: the map page, composed of the core: login, base map, every layer switchable,
// search, popups. Nothing of its own but the zoom level in the side panel.

import { withSession } from "./core/auth.js";
import { addFeatureLayers, createMap, removeMap } from "./core/map.js";
import { attachPopups } from "./core/popup.js";
import { attachSearch } from "./core/search.js";
import { zh } from "./core/strings.js";

const byId = id => document.getElementById(id);

withSession(async () => {
  const map = await createMap("map");
  await addFeatureLayers(map, { switcher: byId("layers") });
  attachPopups(map);
  attachSearch(byId("search"), map);
  map.on("idle", () => { byId("status").textContent = zh.map.zoom(map.getZoom()); });
  return () => removeMap(map);
}, { shell: byId("sidebar"), logout: byId("logout") });
