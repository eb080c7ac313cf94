// The live event stream (GET /api/events/stream, Server-Sent Events) for any page.
//
// Read with fetch rather than EventSource: a reconnect sends Last-Event-ID itself (so no
// event is lost or repeated), the server's `: keep-alive` comments are seen, so a silent,
// half-dead connection is noticed (no byte for `stallMs`) and not only a reset one, and a
// refusal (503, a session that ended) is told apart from a cut. After a cut it comes back
// by itself, after the server's `retry:` hint, growing up to `maxRetryMs`.
//
//   const stream = new EventStream({ types: "feature,record", onEvents, onStatus });
//   stream.start();   // onStatus("open" | "lost" | "ended"), onEvents([event, ...])

const DEFAULT_RETRY_MS = 3000;

// One SSE message's fields from its lines (comments and unknown fields ignored).
function parseMessage(block) {
  const message = { event: "message", data: [], id: null, retry: null, comment: false };
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) { message.comment = true; continue; }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") message.data.push(value);
    else if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
    else if (field === "retry" && /^\d+$/.test(value)) message.retry = Number(value);
  }
  return message;
}

export class EventStream {
  // types, layers, bbox: the stream's filters (strings, as the API takes them).
  // onEvents(events): every batch of events read together, in id order.
  // onStatus(status, previous, detail): "open" once connected, "lost" on a cut, "ended" when
  // the server ends the session (log in again); the stream retries by itself after "lost".
  constructor({ types, layers, bbox, onEvents, onStatus = () => {}, stallMs = 40000,
                maxRetryMs = 30000, url = "/api/events/stream" }) {
    const query = new URLSearchParams();
    if (types) query.set("types", types);
    if (layers) query.set("layers", layers);
    if (bbox) query.set("bbox", bbox);
    this.url = query.size ? `${url}?${query}` : url;
    this.onEvents = onEvents;
    this.onStatus = onStatus;
    this.stallMs = stallMs;
    this.maxRetryMs = maxRetryMs;
    this.lastEventId = null;
    this.retryMs = DEFAULT_RETRY_MS;
    this.failures = 0;
    this.status = "idle";
    this.controller = null;
    this.timer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  setStatus(status, detail) {
    if (status === this.status) return;
    const previous = this.status;
    this.status = status;
    this.onStatus(status, previous, detail);
  }

  async connect() {
    const controller = this.controller = new AbortController();
    const headers = { accept: "text/event-stream" };
    if (this.lastEventId !== null) headers["last-event-id"] = this.lastEventId;
    let ending = null;
    try {
      const response = await fetch(this.url, { headers, credentials: "same-origin",
                                               cache: "no-store", signal: controller.signal });
      if (response.status === 401) { this.setStatus("ended", "SessionEnded"); return; }
      if (!response.ok) throw new Error(`stream refused: ${response.status}`);
      this.setStatus("open");
      this.failures = 0;
      ending = await this.read(response.body.getReader(), controller);
    } catch (error) {
      if (this.stopped) return;
    }
    if (this.stopped) return;
    if (ending?.code === "SessionEnded") { this.setStatus("ended", ending.code); return; }
    this.setStatus("lost", ending?.code);
    this.failures += 1;
    const wait = Math.min(this.maxRetryMs, this.retryMs * 2 ** Math.min(this.failures - 1, 4));
    this.timer = setTimeout(() => this.connect(), wait);
  }

  // Read messages until the stream ends; return the server's last word, if it said one.
  async read(reader, controller) {
    const decoder = new TextDecoder();
    let buffer = "";
    let stall = setTimeout(() => controller.abort(), this.stallMs);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return null;
        clearTimeout(stall);
        stall = setTimeout(() => controller.abort(), this.stallMs);
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        const blocks = buffer.split("\n\n");
        buffer = blocks.pop();
        const events = [];
        for (const block of blocks) {
          const message = parseMessage(block);
          if (message.retry !== null) this.retryMs = message.retry;
          if (message.id !== null) this.lastEventId = message.id;
          if (message.event === "end") return JSON.parse(message.data.join("\n") || "{}");
          if (message.data.length) events.push(JSON.parse(message.data.join("\n")));
        }
        // a page's error is its own: reported as uncaught, never taken for a cut stream
        if (events.length) queueMicrotask(() => this.onEvents(events));
      }
    } finally {
      clearTimeout(stall);
    }
  }
}
