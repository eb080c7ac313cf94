// Small DOM helpers: elements built with text (never HTML strings), tables from columns,
// and the zh-CN formats of times and sizes.

export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, value === true ? "" : value);
    }
  }
  element.append(...children.filter(child => child !== null && child !== undefined));
  return element;
}

// Make `parent`'s children the rows of `items`, in order: a row whose key (a string saying
// everything it shows) was drawn before is kept in place, so a list that changes by a row is
// laid out again by that row only. draw(item) makes a new row's element.
export function keyedRows(parent, items, key, draw) {
  const keys = items.map(key);
  const wanted = new Set(keys);
  const drawn = new Map();
  for (const node of [...parent.children]) {
    const rowKey = node.dataset.rowKey;
    if (rowKey === undefined || !wanted.has(rowKey) || drawn.has(rowKey)) node.remove();
    else drawn.set(rowKey, node);
  }
  let next = parent.firstElementChild;
  items.forEach((item, i) => {
    let node = drawn.get(keys[i]);
    drawn.delete(keys[i]);
    if (!node) {
      node = draw(item);
      node.dataset.rowKey = keys[i];
    }
    if (node === next) next = next.nextElementSibling;
    else parent.insertBefore(node, next);
  });
}

// columns: [{ title, cell: row => text or Node }]
export function table(columns, rows, emptyText) {
  if (!rows.length) return el("p", { class: "muted" }, emptyText);
  const head = el("tr", {}, ...columns.map(column => el("th", {}, column.title)));
  const body = rows.map(row => el("tr", {}, ...columns.map(column => el("td", {}, column.cell(row) ?? ""))));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...body));
}

const TIME = new Intl.DateTimeFormat("zh-CN", { dateStyle: "short", timeStyle: "medium" });
const NUMBER = new Intl.NumberFormat("zh-CN");

export const formatTime = iso => (iso ? TIME.format(new Date(iso)) : "—");
export const formatCount = n => (n === null || n === undefined ? "—" : NUMBER.format(n));

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${NUMBER.format(Math.round(value * 10) / 10)} ${units[unit]}`;
}

// Resolve in a task of its own, so the browser may draw and answer input in between: work
// split by it never holds the main thread as one long task.
export const yieldToMain = () =>
  globalThis.scheduler?.yield?.() ?? new Promise(resolve => setTimeout(resolve, 0));
