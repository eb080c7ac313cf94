// 安保培训 · 学习中心: a unit user's courses (assigned by the bureau's training plans), each
// course's documents and videos (a video plays from the server by range requests), the quiz
// (graded by the server, which alone knows the right answers) and the certificates earned.

import { api } from "./core/api.js";
import { withSession } from "./core/auth.js";
import { el, formatTime } from "./core/dom.js";
import { zh } from "./core/strings.js";

const t = zh.training;
const view = document.getElementById("view");
const message = document.getElementById("message");
const LEARNING = "/api/training/learning";

function say(text, kind = "ok") {
  message.textContent = text;
  message.className = kind;
  message.hidden = !text;
}

const failed = error => say(`${t.failed}${error.message}`, "error");
const button = (text, onclick, attributes = {}) => el("button", { type: "button", onclick, ...attributes }, text);
const card = (title, ...children) => el("section", { class: "card" }, el("h3", {}, title), ...children);
const list = (items, row) => (items.length ? el("ul", { class: "list" }, ...items.map(row))
                                           : el("p", { class: "muted" }, t.nothing));
const badge = (text, kind) => el("span", { class: `badge ${kind}` }, text);

function show(title, ...children) {
  view.replaceChildren(el("h2", {}, title), ...children);
}

function courseRow(assignment) {
  return el("li", { "data-course": assignment.course_id },
    button(assignment.title, () => showCourse(assignment.course_id).catch(failed), { class: "link" }),
    assignment.passed ? badge(t.passed, "good") : badge(t.learning, "wait"),
    el("span", { class: "muted" }, t.deadline(assignment.deadline)),
    assignment.best_score === null ? null : el("span", { class: "muted" }, t.best(assignment.best_score)));
}

function certificateRow(certificate) {
  return el("li", {}, el("strong", {}, t.certificate(certificate.number)),
    el("span", { class: "muted" }, formatTime(certificate.issued_at)));
}

function noticeRow(notice) {
  return el("li", { "data-notice": notice.id }, el("strong", {}, notice.title),
    el("span", { class: "muted" }, formatTime(notice.created_at)), el("p", { class: "body" }, notice.body));
}

async function showCourses() {
  say("");
  const [mine, held, notices] = await Promise.all([api(LEARNING), api(`${LEARNING}/certificates`),
                                                   api("/api/training/notices?limit=20")]);
  show(t.myCourses, list(mine.data, courseRow), card(t.certificates, list(held.data, certificateRow)),
       card(t.notices, list(notices.data, noticeRow)));
}

function material(course, resource, viewed) {
  const done = viewed.includes(resource.id);
  const study = async () => {
    await api(`${LEARNING}/courses/${course.id}/viewed`, { method: "POST", json: { resource_id: resource.id } });
    await showCourse(course.id);
  };
  const content = resource.kind === "video"
    ? el("video", { src: resource.url, controls: true, preload: "metadata", class: "lesson" })
    : el("a", { href: resource.url, target: "_blank", rel: "noopener" }, t.download);
  return el("li", { "data-resource": resource.id }, el("strong", {}, resource.title),
    badge(resource.kind === "video" ? t.video : t.document, ""), content,
    done ? badge(t.studied, "good") : button(t.study, () => study().catch(failed), { class: "primary" }));
}

function question(item) {
  return el("fieldset", { class: "stack", "data-question": item.id }, el("legend", {}, item.text),
    ...item.choices.map((choice, index) => el("label", {},
      el("input", { type: "checkbox", name: item.id, value: index }), choice)));
}

function quizForm(course, ready) {
  if (!ready) return el("p", { class: "muted" }, t.studyFirst);
  const form = el("form", { class: "stack", id: "quiz" }, el("p", { class: "muted" }, t.passMark(course.pass_mark)),
    ...course.questions.map(question), el("button", { type: "submit", class: "primary" }, t.submit));
  form.addEventListener("submit", async event => {
    event.preventDefault();
    const answers = Object.fromEntries(course.questions.map(item => [item.id,
      [...form.querySelectorAll(`input[name="${item.id}"]:checked`)].map(box => Number(box.value))]));
    let graded;
    try {
      graded = await api(`${LEARNING}/courses/${course.id}/attempts`, { method: "POST",
        json: { quiz_version: course.quiz_version, answers } });
    } catch (error) { return failed(error); }
    await showCourse(course.id);
    say([t.result(graded.score, graded.passed), graded.certificate ? t.certificate(graded.certificate.number) : ""]
      .join(" "), graded.passed ? "ok" : "error");
  });
  return form;
}

async function showCourse(id) {
  const { course, assignment } = await api(`${LEARNING}/courses/${id}`);
  const ready = course.resources.every(resource => assignment.viewed.includes(resource.id));
  show(course.title,
    el("p", { class: "muted" }, t.deadline(assignment.deadline), " · ",
       assignment.passed ? t.passed : t.learning),
    card(t.materials, list(course.resources, resource => material(course, resource, assignment.viewed))),
    card(t.quiz, quizForm(course, ready)),
    button(t.back, () => showCourses().catch(failed)));
}

withSession(async me => {
  if (me.role !== "unit") { say(t.notUnit, "error"); return null; }
  await showCourses();
  return () => { view.replaceChildren(); say(""); };
}, { title: t.title, shell: document.getElementById("shell"), logout: document.getElementById("logout") });
