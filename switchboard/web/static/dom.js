// Building the page: small helpers over the DOM, no framework.

export const $ = (id) => document.getElementById(id);

// el("button", { class: "x", onclick: fn }, "text", child...): attributes, event
// handlers (on...) and children (strings become text, never HTML).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

// Options of a <select>: [value, label] pairs or plain values.
export function options(select, items, selected) {
  select.replaceChildren(...items.map((item) => {
    const [value, label] = Array.isArray(item) ? item : [item, item];
    return el("option", { value, selected: value === selected }, label);
  }));
}

// Keeps a scrolled list at its end when it was there before the change.
export function stickToBottom(list, change) {
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  change();
  if (atEnd) list.scrollTop = list.scrollHeight;
}

// Writes a node's text only when it changes: a live region reads out every write, even
// of the same words.
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
