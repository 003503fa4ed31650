// The chat window in embed.js's launcher (`#window=closable`): it names the launcher and
// the frame in the chat's language, shows "Minimise chat", and asks the site's page to
// close the window for that button or Escape; when the page opens it, the keyboard goes
// on to what the customer does next. Messages go to the parent's origin alone and only
// the parent window's, from that origin, are believed (as chat-saved.js does).

import { keeperOrigin } from "./chat-saved.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";

const TAG = "switchboard-chat";
const closable = new URLSearchParams(location.hash.slice(1)).get("window") === "closable";
const parentOrigin = closable ? keeperOrigin() : null;

function tell(op, more = {}) {
  if (parentOrigin) window.parent.postMessage({ type: TAG, op, ...more }, parentOrigin);
}

// The page's language is known (again): the launcher and the frame take its words.
export function nameWindow() {
  if (!parentOrigin) return;
  const html = document.documentElement;
  tell("ready", { label: t("Chat with us"), title: t("Chat with us"), lang: html.lang, dir: html.dir });
}

// What the customer would do next: the message being written, else the start form.
function firstField() {
  for (const id of ["message", "queue", "new-chat"]) {
    const node = $(id);
    if (node && node.getClientRects().length && !node.disabled) return node;
  }
  return $("minimise");
}

if (parentOrigin) {
  $("minimise").hidden = false;
  $("minimise").addEventListener("click", () => tell("close"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) tell("close");
  });
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    if (event.data && event.data.type === TAG && event.data.op === "opened") firstField().focus();
  });
}
