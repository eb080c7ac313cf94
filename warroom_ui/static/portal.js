// 单位服务门户: what a unit does itself, on a phone or a desk. Home (to-dos, deadlines, notices),
// its details (edits wait for the precinct's approval), self-checks from the form templates,
// hazards to rectify with photos, security staff and activities reported, notices with read
// receipts, and the patrols and checks of the unit. A chain or a transit company picks which
// of its units or stations it works on. An invitation link (#join=CODE) activates an account.

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatTime } from "./core/dom.js";
import { answerFields, readAnswers } from "./core/forms.js";
import { zh } from "./core/strings.js";

const t = zh.portal;
const view = document.getElementById("view");
const tabs = document.getElementById("tabs");
const message = document.getElementById("message");
const picker = document.getElementById("unit-picker");
let organisation = [];
let current = null;  // { layer, id, name, own } the pages work on

function say(text, kind = "ok") {
  message.textContent = text;
  message.className = kind;
  message.hidden = !text;
}

const failed = error => say(error.status === 409 || error.status === 412
  ? t.conflict : `${t.failed}${error.message}`, "error");
const button = (text, onclick, attributes = {}) => el("button", { type: "button", onclick, ...attributes }, text);
const list = (items, row) => (items.length ? el("ul", { class: "list" }, ...items.map(row))
                                           : el("p", { class: "muted" }, t.nothing));
const card = (title, ...children) => el("section", { class: "card" }, el("h3", {}, title), ...children);
const field = (label, attributes) => el("label", {}, label, el("input", attributes));
const due = record => (record.due_at ? t.due(formatTime(record.due_at)) : t.noDue);
const stateBadge = record => el("span", { class: `badge ${record.kind === "approval" ? "wait" : ""}` },
                                record.state_title);

function show(title, ...children) {
  view.replaceChildren(el("h2", {}, title), ...children);
}

function recordRow(record) {
  const open = record.kind === "hazard" ? () => showHazard(record.id) : null;
  return el("li", {}, open ? button(record.title, open, { class: "link" }) : el("strong", {}, record.title),
    stateBadge(record), el("span", { class: "muted" }, due(record)));
}

// A course the bureau's plans assign to the unit: its standing and deadline, studied in /training.
function courseRow(course) {
  return el("li", { "data-course": course.course_id }, el("a", { href: "/training", class: "link" }, course.title),
    el("span", { class: `badge ${course.passed ? "good" : "wait"}` }, course.passed ? zh.training.passed : zh.training.learning),
    el("span", { class: "muted" }, zh.training.deadline(course.deadline)));
}

async function showHome() {
  const [home, courses] = await Promise.all([api("/api/portal/home"), api("/api/training/learning")]);
  const count = (label, n, bad = false) => el("div", { class: bad && n ? "bad" : "" }, el("strong", {}, String(n)), label);
  show(t.pages.home,
    el("div", { class: "counts" }, count(t.counts.todos, home.todos.length),
       count(t.counts.hazards, home.open_hazards, true), count(t.counts.overdue, home.overdue, true),
       count(t.counts.approvals, home.pending_approvals), count(t.counts.unread, home.unread_notices, true)),
    card(t.todos, list(home.todos, recordRow)),
    card(t.deadlines, list(home.deadlines, recordRow)),
    card(t.latestNotices, list(home.notices, noticeRow)),
    card(t.training, list(courses.data, courseRow),
         el("a", { href: "/training", class: "more", id: "to-training" }, t.toTraining)));
}

const PERSONAL = new Set(["contact_name", "contact_phone"]);
const FIELDS = ["name", "category", "address", "contact_name", "contact_phone", "risk_level", "is_key_unit",
                "credit_code", "updated_at"];

function details(properties) {
  const shown = FIELDS.filter(name => properties[name] !== undefined && properties[name] !== null);
  const value = (name, v) => (name === "updated_at" ? formatTime(v) : name === "category" ? zh.unitCategories[v] ?? v
    : typeof v === "boolean" ? (v ? zh.yes : zh.no) : String(v));
  return el("dl", { class: "details" }, ...shown.flatMap(name => [el("dt", {}, t.fields[name]),
                                                                  el("dd", {}, value(name, properties[name]))]));
}

async function showUnit() {
  const unit = await api(`/api/portal/unit?layer=${current.layer}&id=${current.id}`);
  const pending = unit.pending.map(approval => el("li", {}, el("strong", {}, approval.title),
    el("span", { class: "badge wait" }, t.pendingItem(formatTime(approval.created_at))),
    details(approval.details.payload.properties ?? {})));
  let edit = el("p", { class: "muted" }, t.noEdit);
  if (unit.editable.length) {
    edit = el("form", { class: "stack", id: "unit-edit" },
      ...unit.editable.map(name => field(t.fields[name], PERSONAL.has(name)
        ? { name, placeholder: t.personalHint(unit.properties[name] ?? "—") }  // shown masked: typed anew
        : { name, value: unit.properties[name] ?? "" })),
      el("button", { type: "submit", class: "primary" }, t.submit));
    edit.addEventListener("submit", async event => {
      event.preventDefault();
      const json = {};
      for (const name of unit.editable) {
        const value = edit.elements[name].value.trim();
        if (value && value !== String(unit.properties[name] ?? "")) json[name] = value;
      }
      try {
        await api("/api/portal/unit", { method: "PATCH", json, ifMatch: unit.version });
      } catch (error) { return failed(error); }
      say(t.editSent);
      showUnit();
    });
  }
  show(`${t.pages.unit} · ${current.name}`, details(unit.properties),
       card(t.pending, list(pending, item => item)), card(t.editTitle, edit));
}

async function showChecks() {
  const forms = (await api("/api/forms")).data.filter(form => form.form_kind === "self_check");
  const history = await api(`/api/portal/records?kind=self_check&limit=20`);
  if (!forms.length) return show(t.pages.checks, el("p", { class: "muted" }, t.noForm), card(t.history, list(history.data, recordRow)));
  const choose = el("select", { name: "template", "aria-label": t.form },
                    ...forms.map(form => el("option", { value: form.code }, form.title)));
  const answers = el("div", { class: "stack" });
  const fill = () => answers.replaceChildren(...answerFields(forms[choose.selectedIndex]));
  choose.addEventListener("change", fill);
  fill();
  const form = el("form", { class: "stack", id: "self-check" }, el("label", {}, t.form, choose), answers,
                  el("button", { type: "submit", class: "primary" }, t.submit));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const template = forms[choose.selectedIndex];
    let made;
    try {
      made = await api("/api/self-checks", { method: "POST", json: {
        template: template.code, template_version: template.version, answers: readAnswers(template, form),
        title: `${template.title}：${current.name}`, features: [{ layer: current.layer, id: current.id }] } });
    } catch (error) { return failed(error); }
    const d = made.details;
    say([t.checkDone(d.score, d.max_score, d.passed), made.opened_hazards.length ? t.opened(made.opened_hazards.length) : ""].join(" "),
        d.passed ? "ok" : "error");
    showChecks();
  });
  show(`${t.pages.checks} · ${current.name}`, form, card(t.history, list(history.data, recordRow)));
}

async function showHazards() {
  const open = await api("/api/portal/records?kind=hazard&open=true&limit=100");
  show(t.pages.hazards, list(open.data, recordRow));
}

function photo(attachment) {
  return el("figure", {}, el("img", { src: attachment.url, alt: attachment.caption ?? attachment.name, loading: "lazy" }),
    el("figcaption", { class: "muted" }, `${attachment.caption ?? ""}${t.stateWhen(attachment.record_state)}`));
}

async function showHazard(id) {
  const hazard = await api(`/api/hazards/${id}`);
  // the browser's own file button speaks the browser's language: our label is the button
  const file = el("input", { type: "file", name: "file", accept: "image/*", capture: "environment", class: "hidden-file" });
  const chosen = el("span", { class: "muted" }, t.noFile);
  file.addEventListener("change", () => { chosen.textContent = file.files[0]?.name ?? t.noFile; });
  const upload = el("form", { class: "stack", id: "rectification" },
    el("label", { class: "file" }, t.choosePhoto, file), chosen,
    field(t.caption, { name: "caption", maxlength: 200 }),
    el("button", { type: "submit", class: "primary" }, t.upload));
  upload.addEventListener("submit", async event => {
    event.preventDefault();
    if (!upload.elements.file.files.length) return say(t.noPhoto, "error");
    try {
      await api(`/api/records/${id}/attachments`, { method: "POST", body: new FormData(upload) });
    } catch (error) { return failed(error); }
    say(t.uploaded);
    showHazard(id);
  });
  const step = action => button(action.title ?? action.action, async () => {
    try {
      await api(`/api/hazards/${id}/transitions`, { method: "POST", json: { action: action.action }, ifMatch: hazard.version });
    } catch (error) { return failed(error); }
    say(`${action.title} · ${t.saved}`);
    showHazard(id);
  }, { class: "primary" });
  show(`${t.hazard} · ${hazard.title}`,
    el("dl", { class: "details" }, el("dt", {}, t.level), el("dd", {}, String(hazard.details.level)),
       el("dt", {}, t.description), el("dd", {}, hazard.details.description ?? ""),
       el("dt", {}, t.state), el("dd", {}, hazard.state_title),
       el("dt", {}, t.dueLabel), el("dd", {}, due(hazard))),
    el("div", { class: "actions" }, ...hazard.actions.map(step)),
    card(t.photos, el("div", { class: "photos" }, ...hazard.attachments.map(photo))),
    card(t.photo, upload), button(t.back, showHazards));
}

// A record kind reported by the unit: its form (`inputs`, turned into the create body) and its list.
function reportPage(kind, path, title, inputs, toBody) {
  return async () => {
    const mine = await api(`/api/portal/records?kind=${kind}&limit=50`);
    const form = el("form", { class: "stack", id: `${kind}-form` }, ...inputs(),
                    el("button", { type: "submit", class: "primary" }, t.submit));
    form.addEventListener("submit", async event => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      try {
        await api(path, { method: "POST", json: { topic: "internal_security", features: [{ layer: current.layer, id: current.id }],
                                           ...toBody(values) } });
      } catch (error) { return failed(error); }
      run(kind === "staff_registration" ? "staff" : "activities");
      say(t.saved);
    });
    show(`${t.pages[kind === "staff_registration" ? "staff" : "activities"]} · ${current.name}`,
         card(title, form), card(t.history, list(mine.data, recordRow)));
  };
}

const staffInputs = () => {
  const f = t.staffFields;
  return [field(f.person_name, { name: "person_name", required: true, maxlength: 64 }),
    field(f.id_number, { name: "id_number", required: true, pattern: "[0-9]{17}[0-9Xx]" }),
    field(f.phone, { name: "phone", required: true, inputmode: "tel" }),
    el("label", {}, f.staff_role, el("select", { name: "staff_role" },
       ...Object.entries(t.staffRoles).map(([value, text]) => el("option", { value }, text)))),
    field(f.certificate, { name: "certificate", maxlength: 64 })];
};
const staffBody = ({ certificate, ...values }) => ({
  title: `${t.pages.staff}：${t.staffRoles[values.staff_role]}`, details: { ...values, ...(certificate ? { certificate } : {}) } });

const activityInputs = () => {
  const f = t.activityFields;
  return [field(f.title, { name: "title", required: true, maxlength: 200 }),
    field(f.organiser, { name: "organiser", required: true, maxlength: 200 }),
    field(f.expected_size, { name: "expected_size", type: "number", min: 0, required: true }),
    field(f.place, { name: "place", maxlength: 300 }),
    field(f.starts_at, { name: "starts_at", type: "datetime-local", required: true }),
    field(f.ends_at, { name: "ends_at", type: "datetime-local", required: true }),
    el("label", {}, f.description, el("textarea", { name: "description", rows: 3, maxlength: 5000 }))];
};
const activityBody = v => ({
  title: v.title, starts_at: new Date(v.starts_at).toISOString(), ends_at: new Date(v.ends_at).toISOString(),
  details: { organiser: v.organiser, expected_size: Number(v.expected_size), place: v.place || null,
             description: v.description || null } });

function noticeRow(m) {
  const read = m.read_at !== null;
  return el("li", {}, button(m.record.title, () => showNotice(m), { class: "link" }),
    el("span", { class: `badge ${read ? "good" : "bad"}` }, read ? t.read : t.unread),
    el("span", { class: "muted" }, formatTime(m.created_at)));
}

async function showNotice(m) {
  const notice = await api(`/api/notices/${m.record.id}`);
  const mark = m.read_at === null ? button(t.markRead, async () => {
    await api(`/api/inbox/${m.id}/read`, { method: "POST" }).catch(failed);
    run("notices");
  }, { class: "primary" }) : el("p", { class: "muted" }, `${t.read} ${formatTime(m.read_at)}`);
  show(notice.title, el("p", { class: "muted" }, formatTime(notice.created_at)),
       el("p", { class: "body" }, notice.details.body), mark, button(t.back, () => run("notices")));
}

async function showNotices() {
  const inbox = await api("/api/inbox?limit=100");
  show(t.pages.notices, list(inbox.data.filter(m => m.record.kind === "notice"), noticeRow));
}

async function showPatrols() {
  const [checks, forms] = await Promise.all([
    api("/api/portal/records?kind=inspection&kind=assessment&kind=self_check&limit=50"), api("/api/forms")]);
  // a failed item by its words in the form (its latest version), not its key
  const items = Object.fromEntries(forms.data.map(form => [form.code, form.schema.properties ?? {}]));
  const itemTitle = (record, item) => items[record.details.template]?.[item]?.title ?? item;
  show(t.pages.patrols, el("p", { class: "muted" }, t.patrolsNote), list(checks.data, record => el("li", {},
    el("strong", {}, record.title), stateBadge(record),
    el("span", { class: `badge ${record.details.passed ? "good" : "bad"}` }, t.score(record.details.score, record.details.max_score)),
    el("span", { class: "muted" }, formatTime(record.created_at)),
    record.details.failed_items?.length ? el("span", { class: "muted" }, `${t.failedItems}：${record.details.failed_items.map(item => itemTitle(record, item)).join("、")}`) : null)));
}

const PAGES = {
  home: showHome, unit: showUnit, checks: showChecks, hazards: showHazards,
  staff: reportPage("staff_registration", "/api/staff-registrations", t.staffForm, staffInputs, staffBody),
  activities: reportPage("activity", "/api/activities", t.activityForm, activityInputs, activityBody),
  notices: showNotices, patrols: showPatrols,
};

function run(name) {
  say("");
  for (const tab of tabs.children) tab.classList.toggle("active", tab.dataset.page === name);
  PAGES[name]().catch(failed);
}

function showJoin(code) {
  const form = el("form", { class: "panel auth stack", id: "join" }, el("h1", {}, t.joinTitle),
    el("p", { class: "muted" }, t.joinNote),
    field(t.code, { name: "code", value: code, required: true, autocomplete: "off" }),
    field(t.username, { name: "username", required: true, autocomplete: "username", pattern: "[A-Za-z0-9_.\\-]{3,64}" }),
    field(t.password, { name: "password", type: "password", required: true, autocomplete: "new-password" }),
    field(t.repeat, { name: "repeat", type: "password", required: true, autocomplete: "new-password" }),
    el("button", { type: "submit", class: "primary" }, t.join), el("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    const error = form.querySelector(".error");
    if (v.password !== v.repeat) { error.textContent = t.mismatch; return; }
    try {
      await api("/api/portal/join", { method: "POST", json: { code: v.code, username: v.username, password: v.password },
                                      loginAttempt: true });
    } catch (failure) { error.textContent = `${t.failed}${failure.message}`; return; }
    form.replaceWith(el("p", { class: "notice joined" }, t.joined));
    history.replaceState(null, "", location.pathname);
    start();
  });
  document.body.prepend(form);
}

function start() {
  withSession(async me => {
    if (me.role !== "unit") { say(t.notUnit, "error"); return null; }
    organisation = await api("/api/portal/units");
    current = organisation[0];
    picker.replaceChildren(...organisation.map((f, i) => el("option", { value: i }, f.name)));
    picker.hidden = organisation.length < 2;
    picker.onchange = () => { current = organisation[Number(picker.value)]; run("home"); };
    tabs.replaceChildren(...Object.keys(PAGES).map(name =>
      el("button", { type: "button", "data-page": name, onclick: () => run(name) }, t.tabs[name])));
    document.querySelector(".joined")?.remove();
    run("home");
    return () => { view.replaceChildren(); say(""); };
  }, { title: t.title, shell: document.getElementById("shell"), logout: document.getElementById("logout") });
}

const joining = location.hash.match(/^#join=([A-Za-z0-9-]+)$/);
if (joining) showJoin(joining[1]);
else start();
