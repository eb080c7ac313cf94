// m.queue.js — what the phone sends waits here (IndexedDB) until the server has it.
//
// Every write of the phone (a check-in, an inspection with its photos) is first stored with a
// key of its own, then sent under that key (the Idempotency-Key header): a write sent again
// after a lost answer or a dropped connection is answered, not done again, and a photo sent
// again to its record is the file already there. Nothing leaves the queue before the server
// answered it; a refusal (4xx) leaves it with the answer for the page to show.
//
//   await enqueue({ kind: "check_in", path: "/api/check-ins", body, photos: [] });
//   await flush((item, made, error) => ...);   // on load, on "online", after each enqueue
//   await pending();                           // what still waits, oldest first

import { ApiError, reportUnauthorized } from "./core/api.js";

const DATABASE = "warroom-field";
const STORE = "pending";

let opened = null;

function database() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function inStore(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(STORE, mode);
    const request = work(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

/** Store a write to send: { kind, path, body, photos (Files), title }; resolve with its key. */
export async function enqueue(item) {
  const key = `m-${crypto.randomUUID()}`;
  await inStore("readwrite", store => store.put({ ...item, key, created: new Date().toISOString() }));
  return key;
}

/** Resolve with every write still waiting, oldest first. */
export async function pending() {
  const items = await inStore("readonly", store => store.getAll());
  return items.sort((a, b) => a.created.localeCompare(b.created));
}

const forget = key => inStore("readwrite", store => store.delete(key));

async function refusal(response) {
  const answer = await response.json().catch(() => ({}));
  const error = new ApiError(response.status, answer.detail || response.statusText);
  error.body = answer;
  if (response.status === 401) reportUnauthorized(error);
  return error;
}

async function post(path, init) {
  const response = await fetch(path, { method: "POST", credentials: "same-origin", ...init });
  if (!response.ok) throw await refusal(response);
  return response.json();
}

// Send one write and its photos; a fetch that never reached the server throws a TypeError.
async function send(item) {
  const made = await post(item.path, {
    headers: { "content-type": "application/json", "idempotency-key": item.key },
    body: JSON.stringify(item.body),
  });
  for (const photo of item.photos ?? []) {
    const form = new FormData();
    form.append("file", photo, photo.name || "photo.jpg");
    await post(`/api/records/${made.id}/attachments`, { body: form });
  }
  return made;
}

// Kept for later: no network, the session ended, the server busy or failing.
const retryable = error => !(error instanceof ApiError)
  || [401, 408, 429].includes(error.status) || error.status >= 500;

let flushing = null;

/**
 * Send every waiting write, oldest first; `done(item, made, error)` is told of each one the
 * server answered (made: its answer; error: its refusal). Stops at the first that cannot be
 * sent now (offline), keeping it and the rest. Resolves with how many still wait.
 */
export function flush(done = () => {}) {
  if (flushing) return flushing.then(() => flush(done));  // what came meanwhile goes too
  flushing = (async () => {
    try {
      for (const item of await pending()) {
        try {
          const made = await send(item);
          await forget(item.key);
          done(item, made, null);
        } catch (error) {
          if (retryable(error)) break;
          await forget(item.key);
          done(item, null, error);
        }
      }
      return (await pending()).length;
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}
