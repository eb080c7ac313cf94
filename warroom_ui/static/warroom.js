// The command center's wall (/warroom): the shared core's map, layer switcher, popups and
// login, with the wall's overlays and panels fed by one store from the live stream, and a
// time slider that replays the last 24 hours. Configured by its address:
//   /warroom?distance_m=4&screen_height_m=1.35&radius_m=1000

import { api } from "./core/api.js";
import { el } from "./core/dom.js";
import { withSession } from "./core/auth.js";
import { addFeatureLayers, createMap, refreshTiles, registryLayers, removeMap, whenDrawn } from "./core/map.js";
import { attachPopups } from "./core/popup.js";
import { EventStream } from "./core/stream.js";
import { zh } from "./core/strings.js";
import { Feeds } from "./wall/feeds.js";
import { focusOnFresh } from "./wall/focus.js";
import { addSwitches, drawLegend, showOverlays } from "./wall/overlays.js";
import { showPanels } from "./wall/panels.js";
import { timeSlider } from "./wall/replay.js";
import { applyScale, wallSettings } from "./wall/scale.js";
import { Store } from "./wall/store.js";

const LIVE_LAYERS = ["incidents", "vehicles"];  // drawn live by the wall's overlays instead
const ACKERS = ["admin", "commander"];  // alerts:ack (layers/accounts/roles.py)
const PERIMETER_READERS = ["admin", "commander", "officer", "planner"];
const byId = id => document.getElementById(id);
const t = zh.wall;

const settings = wallSettings();
const radiusM = Number(new URLSearchParams(location.search).get("radius_m")) || 1000;
applyScale(settings);
document.title = t.title;
byId("title").textContent = t.title;

// Map labels grow with the wall's text (MapLibre draws them in px): their sizes as the core
// set them, at 16 px text, scaled to this screen's 1rem (again after a resize).
const baseSizes = new Map();
function scaleLabels(map) {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const least = Number(document.documentElement.dataset.minTextPx);
  for (const layer of map.getStyle().layers) {
    if (layer.type !== "symbol") continue;
    if (!baseSizes.has(layer.id)) baseSizes.set(layer.id, map.getLayoutProperty(layer.id, "text-size"));
    const size = baseSizes.get(layer.id);
    if (typeof size === "number") {
      map.setLayoutProperty(layer.id, "text-size", Math.max(least, size * rem / 16));
    }
  }
}

function showClock(feeds) {
  const format = new Intl.DateTimeFormat("zh-CN", { dateStyle: "medium", timeStyle: "medium" });
  const tick = () => { byId("clock").textContent = format.format(feeds.serverNow()); };
  tick();
  return setInterval(tick, 1000);
}

// west, south, east, north of a (multi)polygon, or of several such boxes
function boxOf(points) {
  const box = [180, 90, -180, -90];
  for (const [x, y, x2 = x, y2 = y] of points) {
    box[0] = Math.min(box[0], x); box[1] = Math.min(box[1], y);
    box[2] = Math.max(box[2], x2); box[3] = Math.max(box[3], y2);
  }
  return box;
}

// Jump to a district (分局) or back to the whole city.
async function districtJump(map) {
  const select = byId("jump");
  const page = await api("/api/layers/districts/features?limit=100&properties=name");
  const boxes = new Map(page.features.map(f => [String(f.id), boxOf(f.geometry.coordinates.flat(2))]));
  const city = boxOf([...boxes.values()]);
  select.replaceChildren(el("option", { value: "" }, t.jump), el("option", { value: "city" }, t.city),
    ...page.features.map(f => el("option", { value: f.id }, f.properties.name)));
  select.onchange = () => {
    const box = select.value === "city" ? city : boxes.get(select.value);
    if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 30, duration: 1000 });
  };
}

function connection(status) {
  const live = byId("live");
  const banner = byId("banner");
  live.className = `live ${status}`;
  live.textContent = t.live[status] || "";
  banner.textContent = t.banner;
  banner.hidden = status !== "lost";
}

async function start(me) {
  // vehicles move on the map once a second at most, however many positions come
  const store = new Store({ mode: "live", incidents: new Map(), tasks: new Map(), vehicles: new Map() },
                          { periods: { vehicles: 1000 } });
  const feeds = new Feeds(store, { canReadAlerts: PERIMETER_READERS.includes(me.role) });
  let map = null;  // the stream opens while the map starts
  const stream = new EventStream({
    types: "feature,record,geofence,alert,perimeter,tourism",
    onEvents: events => feeds.apply(events),
    onStatus: (status, previous) => {
      if (store.get("mode") === "live") connection(status);
      // back after a cut: what was missed comes with Last-Event-ID; the counts are read anew,
      // and the tiles (one that failed during the cut would stay blank on an unattended wall)
      if (status === "open" && previous === "lost") {
        feeds.soon("kpis", feeds.loadKpis);
        if (map) refreshTiles(map);
      }
    },
  });
  stream.start();
  showPanels(store, { canAck: ACKERS.includes(me.role), reloadAlerts: () => feeds.loadAlerts() });
  const clock = showClock(feeds);
  // no fading of labels and tiles: each fade is frames drawn, and the wall changes all the time
  // the wall draws every layer: one tile a place holds them all (a tenth of the requests)
  const features = { except: LIVE_LAYERS, combine: true };
  [map] = await Promise.all([createMap("map", { fadeDuration: 0, features }),
                             feeds.loadLive(), feeds.stages()]);
  // the switcher is the operator's: folded, so the wall shows the whole city
  const switcher = el("ul", { class: "layers" });
  byId("switcher").replaceChildren(el("details", {}, el("summary", {}, t.layers), switcher));
  await addFeatureLayers(map, { ...features, switcher });
  attachPopups(map);
  const shown = showOverlays(map, store, { taskStages: feeds.taskStages });
  addSwitches(switcher, map, shown);
  drawLegend(byId("legend"), shown);
  scaleLabels(map);
  const home = map.getBounds();
  // the new rem first, then the canvas to its new box (MapLibre's own observer comes later),
  // then the same city fitted into it
  const resized = () => {
    applyScale(settings);
    scaleLabels(map);
    map.resize();
    map.fitBounds(home, { duration: 0 });
  };
  addEventListener("resize", resized);
  const layerTitles = Object.fromEntries(registryLayers(map).map(layer => [layer.id, layer.title]));
  focusOnFresh(map, store, byId("focus"), { radiusM, layers: Object.keys(layerTitles), layerTitles });
  districtJump(map).catch(error => console.error(error));
  feeds.loadRisk().catch(error => console.error(error));
  timeSlider(byId("replay"), {
    now: () => feeds.serverNow(),
    onChange: async at => {
      store.set("mode", at ? "replay" : "live");
      if (at) {
        connection("replay");
        await feeds.loadAt(at);
      } else {
        connection(stream.status);
        await feeds.loadLive();
      }
    },
  });
  await whenDrawn(map);
  // interactive: the map drawn with its layers and overlays, panels filled, the stream open
  // (read by the browser tests and bench/warroom.py)
  document.body.dataset.ready = "true";
  return () => {
    stream.stop();
    feeds.stop();
    clearInterval(clock);
    removeEventListener("resize", resized);
    delete document.body.dataset.ready;
    removeMap(map);
  };
}

withSession(start, { title: t.title });
