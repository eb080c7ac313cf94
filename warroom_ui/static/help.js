// 帮助中心: the help text is the page itself; this module runs its feedback form, which
// sends the text, the page in question and an optional PNG screenshot to POST /api/feedback.

import { api, loggedIn } from "./core/api.js";
import { canCapture, captureScreen, pngFromFile } from "./core/screenshot.js";
import { zh } from "./core/strings.js";

const form = document.getElementById("send-feedback");
const status = document.getElementById("feedback-status");
const preview = document.getElementById("preview");
const captureButton = document.getElementById("capture");
const dropButton = document.getElementById("drop-shot");
const picker = document.getElementById("pick");
let screenshot = null;  // the PNG Blob to send, if any

function say(text, kind = "") {
  status.textContent = text;
  status.className = kind;
}

function setScreenshot(blob) {
  if (preview.src) URL.revokeObjectURL(preview.src);
  screenshot = blob;
  preview.hidden = dropButton.hidden = !blob;
  if (blob) preview.src = URL.createObjectURL(blob);
  else preview.removeAttribute("src");
}

// The page the user came from (on our own site), else this one.
function pageInQuestion() {
  try {
    const from = new URL(document.referrer);
    if (from.origin === location.origin) return from.pathname + from.search + from.hash;
  } catch { /* no referrer */ }
  return location.pathname;
}

picker.addEventListener("change", async () => {
  const file = picker.files[0];
  picker.value = "";
  if (!file) return;
  try {
    const png = await pngFromFile(file);
    if (png) { setScreenshot(png); say(""); } else say(zh.form.tooLarge, "error");
  } catch {
    say(zh.form.notImage, "error");
  }
});

captureButton.addEventListener("click", async () => {
  try {
    const png = await captureScreen();
    if (png) { setScreenshot(png); say(""); } else say(zh.form.tooLarge, "error");
  } catch (error) {
    say(zh.form.captureFailed + error.message, "error");
  }
});

dropButton.addEventListener("click", () => setScreenshot(null));

form.addEventListener("submit", async event => {
  event.preventDefault();
  const body = new FormData(form);
  if (screenshot) body.append("screenshot", screenshot, "screenshot.png");
  try {
    await api("/api/feedback", { method: "POST", body });
    form.reset();
    form.elements.page_url.value = pageInQuestion();
    setScreenshot(null);
    say(zh.form.sent, "ok");
  } catch (error) {
    say(zh.failed + error.message, "error");
  }
});

async function start() {
  if (!(await loggedIn())) {
    const notice = document.getElementById("feedback-login");
    notice.textContent = zh.form.loginFirst;
    notice.hidden = false;
    return;
  }
  form.elements.page_url.value = pageInQuestion();
  captureButton.hidden = !canCapture();
  form.hidden = false;
}

start();
