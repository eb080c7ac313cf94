// The wall's one source of truth: what the map and the panels show. Loaders and the stream
// write into it; the map's overlays and the panels read from it. Changes are announced at
// most every FLUSH_MS, and a topic given a period at most once per period (the wall's moving
// vehicles: once a second), so 2,000 events a minute cost a redraw or two a second. Each
// listener runs in a task of its own: a map source's new data and a chart's redraw are never
// one long task together.

import { yieldToMain } from "../core/dom.js";

const FLUSH_MS = 250;

export class Store {
  // periods: topic -> the least ms between two announcements of it
  constructor(initial, { periods = {} } = {}) {
    this.state = { ...initial };
    this.listeners = new Map();  // topic -> [listener]
    this.dirty = new Set();
    this.timer = null;
    this.periods = periods;
    this.announced = new Map();  // topic -> when it was last announced (performance.now())
  }

  get(topic) {
    return this.state[topic];
  }

  // Call `listener(value)` after each change of `topic` (and now, if it has a value).
  on(topic, listener) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, []);
    this.listeners.get(topic).push(listener);
    if (this.state[topic] !== undefined) listener(this.state[topic]);
  }

  set(topic, value) {
    this.state[topic] = value;
    this.touch(topic);
  }

  // Announce a change made in place (a Map's entries).
  touch(topic) {
    this.dirty.add(topic);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  // Announce what changed now (rather than at the next turn); a topic within its period waits.
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const now = performance.now();
    let wait = Infinity;
    const topics = [];
    for (const topic of this.dirty) {
      const due = (this.announced.get(topic) ?? -Infinity) + (this.periods[topic] ?? 0);
      if (due <= now) topics.push(topic);
      else wait = Math.min(wait, due - now);
    }
    for (const topic of topics) {
      this.dirty.delete(topic);
      this.announced.set(topic, now);
    }
    if (this.dirty.size) this.timer = setTimeout(() => this.flush(), Math.max(wait, FLUSH_MS));
    this.announce(topics);
  }

  // Call the listeners of `topics`, the first now, each next one after yielding the thread.
  async announce(topics) {
    let first = true;
    for (const topic of topics) {
      for (const listener of this.listeners.get(topic) || []) {
        if (!first) await yieldToMain();
        first = false;
        listener(this.state[topic]);
      }
    }
  }
}
