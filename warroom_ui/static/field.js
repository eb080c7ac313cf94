// field.js — what the officer's desk (officer.js) and phone (m.js) both show: "my tasks" with
// the workflow steps the reader may take, a unit's records as a timeline, a versioned read
// (a feature's ETag) and a file download from a POST.

import { api, ApiError, reportUnauthorized } from "./core/api.js";
import { el, formatTime } from "./core/dom.js";
import { zh } from "./core/strings.js";

const f = zh.field;

/** Return the message of a failed write: a version conflict (412/409) says nothing was overwritten. */
export const failure = error => (error.status === 412 || error.status === 409
  ? f.conflict : `${f.failed}${error.message}`);

/** Return a list of records (title, state, time), newest first, or "none". */
export function timeline(records) {
  if (!records.length) return el("p", { class: "muted" }, f.nothing);
  return el("ul", { class: "list timeline" }, ...records.map(record => el("li", {},
    el("strong", {}, record.title),
    el("span", { class: "muted" }, `${record.state_title} · ${formatTime(record.created_at)}`))));
}

/** Resolve with the tasks of the caller's inbox (each once), newest first. */
export async function myTasks(limit = 20) {
  const seen = new Set();
  const messages = (await api("/api/inbox?limit=100")).data;
  const tasks = messages.filter(m => m.record.kind === "task" && !seen.has(m.record.id)
                                     && seen.add(m.record.id));
  return Promise.all(tasks.slice(0, limit).map(m => api(`/api/tasks/${m.record.id}`)));
}

/**
 * Return the list of `records` of one kind whose routes are under `base` ("/api/hazards"),
 * each with its state, deadline (overdue ones marked), what `more(record)` adds, and a button
 * per step its reader may take now (sent at the version read: a record changed meanwhile is
 * refused, not overwritten); `changed(error, answer)` is called after each step (error: why
 * it was refused; answer: the record, or the approval the step now waits for).
 */
export function recordList(records, base, changed, more = () => null) {
  if (!records.length) return el("p", { class: "muted" }, f.nothing);
  const now = Date.now();
  return el("ul", { class: "list records" }, ...records.map(record => {
    const late = record.due_at && new Date(record.due_at).getTime() < now;
    return el("li", { "data-id": record.id, "data-state": record.state },
      el("strong", {}, record.title),
      el("span", { class: "muted" }, record.state_title),
      record.due_at ? el("span", { class: late ? "due late" : "due" },
                         `${late ? f.overdue : f.due} ${formatTime(record.due_at)}`) : null,
      ...[more(record)].flat(),
      el("span", { class: "actions" }, ...(record.actions ?? []).map(action => el("button", {
        type: "button", "data-action": action.action,
        onclick: () => api(`${base}/${record.id}/transitions`, {
          method: "POST", ifMatch: record.version, json: { action: action.action },
        }).then(answer => changed(null, answer), changed),
      }, action.title))));
  }));
}

/** Return the list of `tasks` with their steps (see recordList). */
export function taskList(tasks, changed) {
  const list = recordList(tasks, "/api/tasks", changed);
  list.classList.add("tasks");
  return list;
}

async function checked(response) {
  if (response.ok) return response;
  const answer = await response.json().catch(() => ({}));
  const error = new ApiError(response.status, answer.detail || response.statusText);
  if (response.status === 401) reportUnauthorized(error);
  throw error;
}

/** Resolve with a resource and its version (its ETag), for a write that must not overwrite. */
export async function readVersioned(path) {
  const response = await checked(await fetch(path, { credentials: "same-origin" }));
  return { body: await response.json(), version: Number(response.headers.get("etag").replaceAll('"', "")) };
}

/** POST `json` to `path` and save the file it answers under `name`. */
export async function download(path, json, name) {
  const response = await checked(await fetch(path, {
    method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" },
    body: JSON.stringify(json) }));
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
