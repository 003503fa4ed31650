// The chat this browser is in, kept so that a reload or a dropped network picks up the
// same chat: its id, the customer token, the language. Kept in the window's own
// localStorage when the browser allows it. A window framed on another site, in a browser
// that refuses storage to third parties (Safari, Firefox strict, a private window), keeps
// it in the site's page instead, when embed.js framed it (it says so with `#store=parent`
// and answers there): the frame asks its parent to keep, give back or forget it, by
// postMessage to the parent's origin alone (which frame-ancestors limits to the sites),
// and believes only the parent's answers.

const key = (site) => `switchboard-chat:${site || ""}`;
const TAG = "switchboard-chat";  // what marks the messages of this exchange
const PARENT_WAIT_MS = 1000;  // the parent that has not answered by then keeps nothing

// The window's own storage, or null where the browser refuses it.
function ownStorage() {
  try {
    const storage = window.localStorage;
    const probe = `${key("")}probe`;
    storage.setItem(probe, "1");
    storage.removeItem(probe);
    return storage;
  } catch (_) {
    return null;
  }
}

// The page that framed this window, when embed.js did so and keeps the chat for it: its
// origin (Chromium and Safari name it in ancestorOrigins, Firefox in the referrer).
export function keeperOrigin() {
  if (window.parent === window) return null;
  if (new URLSearchParams(location.hash.slice(1)).get("store") !== "parent") return null;
  try {
    const named = location.ancestorOrigins && location.ancestorOrigins[0];
    const origin = named || (document.referrer && new URL(document.referrer).origin);
    return origin && origin !== "null" ? origin : null;
  } catch (_) {
    return null;
  }
}

const storage = ownStorage();
const parentOrigin = storage ? null : keeperOrigin();
let asked = 0;

// One request to the parent and its answer (null when none comes in time).
function askParent(op, chat) {
  const id = `${Date.now()}-${(asked += 1)}`;
  return new Promise((done) => {
    const timer = setTimeout(() => finish(null), PARENT_WAIT_MS);
    function finish(answer) {
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      done(answer);
    }
    function onMessage(event) {
      if (event.source !== window.parent || event.origin !== parentOrigin) return;
      const answer = event.data;
      if (answer && answer.type === TAG && answer.id === id) finish(answer);
    }
    window.addEventListener("message", onMessage);
    window.parent.postMessage({ type: TAG, op, id, chat }, parentOrigin);
  });
}

const valid = (saved) => (saved && typeof saved.contact_id === "string"
  && typeof saved.customer_token === "string" ? saved : null);

// The chat kept, or null; may wait for the parent's answer (at most PARENT_WAIT_MS).
export async function savedChat(site) {
  if (parentOrigin) {
    const answer = await askParent("get");
    return valid(answer && answer.chat);
  }
  try {
    return valid(JSON.parse(storage.getItem(key(site)) || "null"));
  } catch (_) {
    return null;
  }
}

export async function saveChat(site, chat) {
  if (parentOrigin) { await askParent("put", chat); return; }
  try {
    storage.setItem(key(site), JSON.stringify(chat));
  } catch (_) { /* storage refused (no embed.js to keep it): the chat works, a reload starts anew */ }
}

export async function forgetChat(site) {
  if (parentOrigin) { await askParent("forget"); return; }
  try { storage.removeItem(key(site)); } catch (_) { /* nothing kept */ }
}
