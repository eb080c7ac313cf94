// The wall's one source of truth: what the map and the panels show. Loaders and the stream
// write into it; the map's overlays and the panels read from it. Changes are announced at
// most every FLUSH_MS per topic, so 2,000 events a minute cost a few redraws a second.

const FLUSH_MS = 250;

export class Store {
  constructor(initial) {
    this.state = { ...initial };
    this.listeners = new Map();  // topic -> [listener]
    this.dirty = new Set();
    this.timer = null;
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

  // Announce what changed now (rather than at the next turn).
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const topics = [...this.dirty];
    this.dirty.clear();
    for (const topic of topics) {
      for (const listener of this.listeners.get(topic) || []) listener(this.state[topic]);
    }
  }
}
