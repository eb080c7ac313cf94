// core/forms.js — a form template's answers as inputs (表单服务): one field per property of its
// JSON Schema, read back into the answers object a submission sends.

import { el } from "./dom.js";

/** Return the input of one answer: a yes/no switch (checked: yes), a number, or text. */
export function answerField(name, property) {
  const title = property.title ?? name;
  if (property.type === "boolean") {
    return el("label", { class: "switch" }, el("input", { type: "checkbox", name, checked: true }), title);
  }
  if (property.type === "integer" || property.type === "number") {
    return el("label", {}, title, el("input", { type: "number", name, min: property.minimum ?? 0,
                                                 inputmode: "numeric" }));
  }
  return el("label", {}, title, el("input", { name, maxlength: property.maxLength ?? 500 }));
}

/** Return the inputs of every answer of ``template``, in the schema's order. */
export const answerFields = template =>
  Object.entries(template.schema.properties ?? {}).map(([name, property]) => answerField(name, property));

/** Return the answers a form holds, as ``template``'s schema types them (blank ones left out). */
export function readAnswers(template, form) {
  const answers = {};
  for (const [name, property] of Object.entries(template.schema.properties ?? {})) {
    const input = form.elements[name];
    if (property.type === "boolean") answers[name] = input.checked;
    else if (input.value === "") continue;
    else answers[name] = property.type === "integer" || property.type === "number" ? Number(input.value) : input.value;
  }
  return answers;
}
