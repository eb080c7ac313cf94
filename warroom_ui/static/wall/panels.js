// The wall's side panels, drawn from the store: KPI cards, incidents by district and by
// hour (ECharts, core/charts.js), the incident ticker and the alert list with acknowledge.

import { api } from "../core/api.js";
import { barChart } from "../core/charts.js";
import { el, keyedRows } from "../core/dom.js";
import { zh } from "../core/strings.js";

const t = zh.wall;

const NUMBER = new Intl.NumberFormat("zh-CN");
const count = n => (n === null || n === undefined ? "—" : NUMBER.format(n));
const CLOCK = new Intl.DateTimeFormat("zh-CN", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const DISTRICT_BARS = 8;
const HOURS = Array.from({ length: 24 }, (_, h) => `${h}`);

function card(label, value, { bad = false, note, wide = false, extra } = {}) {
  return el("div", { class: `kpi${wide ? " wide" : ""}` },
    el("div", { class: "label" }, label),
    el("div", { class: `value${bad ? " bad" : ""}` }, value),
    extra, note ? el("div", { class: "note" }, note) : null);
}

function trend(now, then) {
  if (then === undefined || now === then) return null;
  return el("span", { class: now > then ? "up" : "down" }, now > then ? " ▲" : " ▼");
}

function drawKpis(element, k) {
  const levels = k.hazardLevels
    ? el("div", { class: "levels" }, ...k.hazardLevels.map((n, i) => el("span", {}, `${t.kpi.level(i + 1)} ${count(n)}`)))
    : null;
  const tasks = k.tasksTruncated ? t.kpi.truncated(count(k.openTasks)) : count(k.openTasks);
  const incidents = el("span", {}, count(k.incidents), k.replay ? null : trend(k.incidents, k.yesterdayThen));
  // a card whose text is unchanged stays as it was drawn
  keyedRows(element, [
    card(t.kpi.openTasks, tasks),
    card(t.kpi.overdueTasks, count(k.overdueTasks), { bad: k.overdueTasks > 0 }),
    card(t.kpi.hazards, count(k.hazardsOpen), { wide: true, extra: levels }),
    card(k.replay ? t.kpi.incidentsDay : t.kpi.incidentsToday, incidents, { wide: true,
      note: k.replay ? null : t.kpi.againstYesterday(count(k.yesterdayThen), count(k.yesterday)) }),
  ], node => node.className + node.innerHTML, node => node);
}

// A ticker row's content: its key, and what its element is drawn from.
function tickerText(item, replaying) {
  const category = item.category ? `${t.categories[item.category] || item.category} · ` : "";
  return { id: item.id, fresh: item.freshUntil > Date.now(), level: item.level,
           when: CLOCK.format(new Date(replaying ? item.eventAt : item.occurredAt)),
           what: `${item.updated ? `${t.ticker.updated} ` : ""}${category}${item.name}` };
}

function tickerRow(row) {
  return el("li", { class: row.fresh ? "fresh" : "", "data-id": row.id },
    el("span", { class: "time" }, row.when), el("span", { class: "what" }, row.what),
    row.level ? el("span", { class: "level" }, t.incidentLevel(row.level)) : el("span"));
}

// A critical alert: a feature entering a perimeter's core ring.
const critical = alert => alert.kind === "enter" && alert.ring === "core" && alert.state === "open";

function alertRow(alert, canAck, acknowledge) {
  const acked = alert.state !== "open";
  const action = acked ? el("span", { class: "time" }, t.alerts.acked(alert.acknowledged_by || ""))
    : canAck ? el("button", { type: "button", onclick: () => acknowledge(alert) }, t.alerts.ack) : null;
  return el("li", { class: `${critical(alert) ? "critical" : ""}${acked ? " acked" : ""}`, "data-id": alert.id },
    el("span", { class: "time" }, CLOCK.format(new Date(alert.at))),
    el("span", { class: "what" }, t.alerts.text(alert)), action);
}

/** Draw every panel from `store`; `canAck`: the user may acknowledge alerts. */
export function showPanels(store, { canAck, reloadAlerts }) {
  const byId = id => document.getElementById(id);
  byId("by-district-title").textContent = t.charts.byDistrict;
  byId("by-hour-title").textContent = t.charts.byHour;
  byId("alerts-title").textContent = t.alerts.title;
  store.on("kpis", k => drawKpis(byId("kpis"), k));

  const districts = barChart(byId("by-district"), { horizontal: true,
    series: [{ name: t.charts.today, colour: "#7fd4ff", labels: true }] });
  store.on("byDistrict", rows => {
    // the busiest districts, the rest as one bar: the bars add up to the incidents counted
    const shown = rows.length <= DISTRICT_BARS ? rows : [...rows.slice(0, DISTRICT_BARS - 1),
      { name: t.charts.others, count: rows.slice(DISTRICT_BARS - 1).reduce((n, r) => n + r.count, 0) }];
    districts.update(shown.map(r => r.name || t.charts.outside), [shown.map(r => r.count)]);
  });
  const hours = barChart(byId("by-hour"), { series: [
    { name: t.charts.today, colour: "#7fd4ff" },
    { name: t.charts.yesterday, colour: "#ffcf66", type: "line" }] });
  store.on("byHour", h => hours.update(HOURS, h.last24h ? [h.last24h, []] : [h.today, h.yesterday]));

  store.on("ticker", items => {
    const replaying = store.get("mode") === "replay";
    byId("ticker-title").textContent = replaying ? t.ticker.replayTitle : t.ticker.title;
    byId("by-district-title").textContent = replaying ? t.charts.byDistrictReplay : t.charts.byDistrict;
    if (!items.length) byId("ticker").replaceChildren(el("li", { class: "empty" }, t.ticker.empty));
    else keyedRows(byId("ticker"), items.map(i => tickerText(i, replaying)), JSON.stringify, tickerRow);
  });

  const acknowledge = async alert => {
    try {
      await api(`/api/alerts/${alert.id}/ack`, { method: "POST" });
    } catch (error) {
      if (error.status !== 409) console.warn(t.alerts.failed, error.message);
    }
    reloadAlerts();
  };
  store.on("alerts", alerts => {
    if (!alerts.length) byId("alerts").replaceChildren(el("li", { class: "empty" }, t.alerts.empty));
    else keyedRows(byId("alerts"), alerts, a => JSON.stringify([a.id, a.state, a.acknowledged_by, a.at, t.alerts.text(a)]),
                   a => alertRow(a, canAck, acknowledge));
  });
}
