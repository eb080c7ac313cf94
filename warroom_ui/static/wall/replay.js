// The time slider (复盘): drag back over the last 24 hours and the map and panels show the
// city at that instant (GET /api/state, /api/events); ▶ plays forward from there, 实时
// (or reaching now) returns to the live city.

import { el } from "../core/dom.js";
import { zh } from "../core/strings.js";

const t = zh.wall;

const WINDOW_MS = 24 * 3600_000;
const STEP_S = 60;
const PLAY_STEP_MS = 5 * 60_000;  // a played second is five minutes of the day
const SETTLE_MS = 300;
const TIME = new Intl.DateTimeFormat("zh-CN", { month: "2-digit", day: "2-digit", hour: "2-digit",
                                               minute: "2-digit", hourCycle: "h23" });

/** Draw the slider into `element`; `onChange(null)` is live, `onChange(date)` an instant. */
export function timeSlider(element, { now, onChange }) {
  const slider = el("input", { type: "range", id: "replay-slider", min: 0,
                               max: WINDOW_MS / 1000, step: STEP_S, "aria-label": t.replay.at });
  const live = el("button", { type: "button", id: "replay-live" }, t.replay.live);
  const play = el("button", { type: "button", id: "replay-play" }, t.replay.play);
  const when = el("span", { class: "when", id: "replay-when" }, t.replay.now);
  const ticks = el("span", { class: "ticks" }, `${t.replay.hoursAgo(24)} — ${t.replay.now}`);
  slider.value = slider.max;
  let timer = null, playing = null;

  const instant = () => new Date(now().getTime() - WINDOW_MS + Number(slider.value) * 1000);
  const atEnd = () => Number(slider.value) >= Number(slider.max);
  const goLive = () => {
    stop();
    slider.value = slider.max;
    when.textContent = t.replay.now;
    onChange(null);
  };
  const chosen = () => {
    clearTimeout(timer);
    if (atEnd()) return goLive();
    when.textContent = TIME.format(instant());
    timer = setTimeout(() => onChange(instant()), SETTLE_MS);
  };
  const stop = () => {
    clearInterval(playing);
    playing = null;
    play.textContent = t.replay.play;
  };
  slider.addEventListener("input", () => { stop(); chosen(); });
  live.addEventListener("click", goLive);
  play.addEventListener("click", () => {
    if (playing) return stop();
    if (atEnd()) slider.value = 0;
    play.textContent = t.replay.pause;
    playing = setInterval(() => {
      slider.value = Number(slider.value) + PLAY_STEP_MS / 1000;
      chosen();
    }, 1000);
  });
  element.replaceChildren(live, play, slider, when, ticks);
}
