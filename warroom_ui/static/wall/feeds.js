// What the wall shows, read from the API into the store: the city now (and kept current by
// the live stream), or the city at a past instant of the last 24 hours (replay).
//
// Store topics: incidents, tasks, vehicles (Maps id -> item), ticker (newest incidents or
// replayed events), kpis, byDistrict (today's, or the replayed day's), byHour, alerts, perimeters, risk, mode ("live" |
// "replay"), at (the replayed instant), fresh (an incident just created: the map focuses).

import { api } from "../core/api.js";
import { zh } from "../core/strings.js";

const t = zh.wall;

const FRESH_MS = 120_000;  // a new incident pulses this long
const TICKER_SIZE = 30;
const REFRESH_MS = { kpis: 3000, tasks: 5000, alerts: 1000, perimeters: 2000 };

const pointOf = feature => feature.geometry?.coordinates;

function incidentItem(feature, fresh = false) {
  const [lon, lat] = pointOf(feature);
  const p = feature.properties;
  return { id: feature.id, lon, lat, name: p.name, category: p.category, level: p.level,
           status: p.status, occurredAt: p.occurred_at, freshUntil: fresh ? Date.now() + FRESH_MS : 0 };
}

function taskItem(feature) {
  const [lon, lat] = pointOf(feature);
  const p = feature.properties;
  return { id: feature.id, lon, lat, title: p.title, state: p.state, overdue: p.overdue };
}

function vehicleItem(feature) {
  const [lon, lat] = pointOf(feature);
  const p = feature.properties;
  return { id: feature.id, lon, lat, name: p.name, plate: p.plate, kind: p.kind,
           heading: p.heading_deg ?? 0 };
}

const byId = (features, item) => new Map(features.filter(pointOf).map(f => [f.id, item(f)]));

// The newest incidents first, for the ticker.
function newest(incidents) {
  return [...incidents.values()]
    .sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt) || b.id - a.id)
    .slice(0, TICKER_SIZE);
}

// Incidents per district, most first, as GET /api/stats/incidents has today's.
function byDistrict(features, names) {
  const counts = new Map();
  for (const { properties: { district_id: id = null } } of features) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].map(([id, count]) => ({ district_id: id, name: names.get(id) ?? null, count }))
    .sort((a, b) => b.count - a.count || (a.district_id ?? 0) - (b.district_id ?? 0));
}

// A fetch that never reached the server (not an answer of it) throws a TypeError.
const unreachable = error => error instanceof TypeError && /fetch|load failed/i.test(error.message);

const hourOf = (iso, zone) => Number(new Intl.DateTimeFormat("en-GB",
  { hour: "2-digit", hourCycle: "h23", timeZone: zone }).format(new Date(iso)));

export class Feeds {
  constructor(store, { canReadAlerts = true, zone = "Asia/Shanghai" } = {}) {
    this.store = store;
    this.canReadAlerts = canReadAlerts;
    this.zone = zone;
    this.clockOffsetMs = 0;  // the server's clock less ours
    this.timers = {};
    this.taskStages = [];
    this.stagesRead = null;
    this.waiting = null;  // events that came while the city was being read
    this.asked = 0;  // the newest load asked for; older answers are dropped
  }

  serverNow() {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  // Run `load` at most once per its period, soon after it is asked for.
  soon(name, load) {
    if (this.timers[name]) return;
    this.timers[name] = setTimeout(() => {
      this.timers[name] = null;
      if (this.store.get("mode") !== "live") return;
      load.call(this).catch(error => {
        // the server out of reach: the banner says so, and the next event asks again
        if (unreachable(error)) console.warn(`${name}: ${error.message}`);
        else console.error(error);
      });
    }, REFRESH_MS[name]);
  }

  // The task workflow's stages (titles, which are closed), read once.
  stages() {
    this.stagesRead ??= api("/api/topics").then(({ data }) => {
      const task = data.flatMap(topic => topic.kinds).find(kind => kind.id === "task");
      this.taskStages = task ? task.stages : [];
      return this.taskStages;
    });
    return this.stagesRead;
  }

  async loadKpis() {
    const [days, hazards, tasks, overdue, stages] = await Promise.all([
      api("/api/stats/incidents"), api("/api/stats/hazards/open"),
      api("/api/stats/records?kind=task&group_by=state"), api("/api/stats/overdue"), this.stages()]);
    this.clockOffsetMs = new Date(days.now) - Date.now();
    if (this.store.get("mode") !== "live") return;
    const closed = new Set(stages.filter(s => s.closed).map(s => s.state));
    const levels = [1, 2, 3, 4].map(level => hazards.data.find(r => r.level === level)?.open ?? 0);
    this.store.set("kpis", {
      openTasks: tasks.data.filter(r => !closed.has(r.state)).reduce((n, r) => n + r.count, 0),
      overdueTasks: overdue.data.find(r => r.kind === "task")?.overdue ?? 0,
      hazardLevels: levels,
      hazardsOpen: hazards.total,
      incidents: days.today, yesterdayThen: days.yesterday_until_now, yesterday: days.yesterday,
    });
    this.store.set("byDistrict", days.today_by_district);
    this.store.set("byHour", { today: days.today_by_hour, yesterday: days.yesterday_by_hour });
  }

  async loadState(at, kinds = "task") {
    const query = new URLSearchParams({ at: at.toISOString(), kinds });
    return api(`/api/state?${query}`);
  }

  async loadTasks() {
    const state = await this.loadState(new Date(this.serverNow() - 1000));
    this.store.set("tasks", byId(state.records.features, taskItem));
  }

  async loadAlerts() {
    if (!this.canReadAlerts) return;
    const { data } = await api("/api/alerts?limit=30");
    this.store.set("alerts", data);
  }

  async loadPerimeters() {
    const at = encodeURIComponent(this.serverNow().toISOString());
    const { data } = await api(`/api/perimeters?at=${at}&limit=50`).catch(error => {
      if (error.status === 403) return { data: [] };  // a role without perimeters:read
      throw error;
    });
    this.store.set("perimeters", data);
  }

  async loadRisk() {
    const hexes = await api("/api/layers/units/hexbins?resolution=7&sum=risk_level");
    this.store.set("risk", hexes);
  }

  // The city now: everything at once, then kept current by apply(). The stream runs
  // already: what it brings meanwhile waits, then goes on top (applying twice is harmless).
  async loadLive() {
    const mine = ++this.asked;
    this.waiting = [];
    const [state] = await Promise.all([this.loadState(new Date(this.serverNow() - 1000)),
                                       this.loadKpis(), this.loadAlerts(), this.loadPerimeters()]);
    if (mine !== this.asked) return;
    const incidents = byId(state.incidents.features, incidentItem);
    this.store.set("incidents", incidents);
    this.store.set("tasks", byId(state.records.features, taskItem));
    this.store.set("vehicles", byId(state.vehicles.features, vehicleItem));
    this.store.set("ticker", newest(incidents));
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting.length) await this.apply(waiting);
  }

  // The city at `at`: the state then, and the events of the hour before it.
  async loadAt(at) {
    const mine = ++this.asked;
    const from = new Date(at - 3600_000);
    const query = new URLSearchParams({ from: from.toISOString(), to: at.toISOString(),
                                        types: "feature", layers: "incidents", limit: 1000 });
    const [state, events, names] = await Promise.all([
      this.loadState(at, "task,hazard"), api(`/api/events?${query}`), this.districtNames()]);
    if (mine !== this.asked) return;
    const incidents = byId(state.incidents.features, incidentItem);
    const records = state.records.features;
    const tasks = records.filter(f => f.properties.kind === "task");
    this.store.set("incidents", incidents);
    this.store.set("tasks", byId(tasks, taskItem));
    this.store.set("vehicles", byId(state.vehicles.features, vehicleItem));
    const replayed = events.data.filter(e => incidents.has(e.feature_id)).reverse()
      .slice(0, TICKER_SIZE).map(e => ({ ...incidents.get(e.feature_id), eventAt: e.at,
                                          updated: e.type !== "feature.created" }));
    this.store.set("ticker", replayed);
    const hours = Array(24).fill(0);
    incidents.forEach(item => { hours[hourOf(item.occurredAt, this.zone)] += 1; });
    this.store.set("byHour", { last24h: hours });
    this.store.set("byDistrict", byDistrict(state.incidents.features, names));
    const hazards = records.filter(f => f.properties.kind === "hazard");
    this.store.set("kpis", {
      openTasks: tasks.length, tasksTruncated: state.records.truncated,
      overdueTasks: tasks.filter(f => f.properties.overdue).length,
      hazardsOpen: hazards.length,
      hazardLevels: [1, 2, 3, 4].map(level => hazards.filter(f => f.properties.level === level).length),
      incidents: incidents.size, replay: true,
    });
  }

  // The districts' names by id, read once.
  districtNames() {
    this.namesRead ??= api("/api/layers/districts/features?limit=100&properties=name")
      .then(page => new Map(page.features.map(f => [f.id, f.properties.name])))
      .catch(error => { this.namesRead = null; throw error; });
    return this.namesRead;
  }

  // Live events from the stream, in id order (ignored while replaying: live resumes anew).
  async apply(events) {
    if (this.store.get("mode") !== "live") return;
    if (this.waiting) { this.waiting.push(...events); return; }
    const incidents = this.store.get("incidents");
    const vehicles = this.store.get("vehicles");
    let movedVehicles = false, incidentEvents = false;
    for (const event of events) {
      const [family] = event.type.split(".");
      if (family === "feature" && event.layer === "incidents") {
        incidentEvents = true;
        this.incidentChanged(event);
        this.soon("kpis", this.loadKpis);
      } else if (family === "feature" && event.layer === "vehicles") {
        movedVehicles = this.vehicleMoved(vehicles, event) || movedVehicles;
      } else if (family === "record") {
        if (event.payload.kind === "task") this.soon("tasks", this.loadTasks);
        if (["task", "hazard"].includes(event.payload.kind)) this.soon("kpis", this.loadKpis);
      } else if (family === "geofence" || family === "alert") {
        this.soon("alerts", this.loadAlerts);
      } else if (family === "perimeter") {
        this.soon("perimeters", this.loadPerimeters);
      } else if (event.type === "tourism.alert") {
        this.store.set("tourismAlert", event.id);  // the tourism overlay reads occupancy anew
      }
    }
    if (movedVehicles) this.store.touch("vehicles");
    // the ticker is redrawn for incidents only, not for each batch of vehicle moves
    if (incidents && incidentEvents) this.store.set("ticker", newest(incidents));
  }

  vehicleMoved(vehicles, event) {
    const { lon, lat, heading_deg: heading } = event.payload;
    if (event.type === "feature.deleted") return vehicles.delete(event.feature_id);
    if (lon === undefined) return false;  // an edit of its attributes: its place is unchanged
    const known = vehicles.get(event.feature_id);
    vehicles.set(event.feature_id, { ...(known || { id: event.feature_id, kind: "other" }),
                                     lon, lat, heading: heading ?? known?.heading ?? 0 });
    return true;
  }

  // A new incident is drawn and listed at once, where its event says (a point's box), then
  // named once its attributes are read; a changed one is read anew, a deleted one dropped.
  async incidentChanged(event) {
    const incidents = this.store.get("incidents");
    const id = event.feature_id;
    if (event.type === "feature.deleted") {
      incidents.delete(id);
      this.store.touch("incidents");
      return;
    }
    const created = event.type === "feature.created";
    if (created && event.bbox && !incidents.has(id)) {
      const [lon, lat] = event.bbox;
      incidents.set(id, { id, lon, lat, name: t.ticker.reading, category: null, level: 0,
                          status: "open", occurredAt: event.at, freshUntil: Date.now() + FRESH_MS });
      this.store.set("ticker", newest(incidents));
      this.store.touch("incidents");
      this.store.flush();  // a new incident is news: shown now, not at the next turn
    }
    let feature;
    try {
      feature = await api(`/api/layers/incidents/features/${id}`);
    } catch (error) {
      if (error.status !== 404) throw error;
      incidents.delete(id);  // deleted since, or moved out of our jurisdiction
      this.store.touch("incidents");
      return;
    }
    const item = incidentItem(feature, created || incidents.get(id)?.freshUntil > Date.now());
    incidents.set(id, item);
    this.store.touch("incidents");
    this.store.set("ticker", newest(incidents));
    if (created) this.store.set("fresh", item);
  }

  stop() {
    Object.values(this.timers).forEach(clearTimeout);
    this.timers = {};
    this.asked += 1;
  }
}
