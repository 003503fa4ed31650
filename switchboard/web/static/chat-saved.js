// The chat this browser is in, kept in localStorage so that a reload or a dropped
// network picks up the same chat: its id, the customer token, the language.

const key = (site) => `switchboard-chat:${site || ""}`;

export function savedChat(site) {
  try {
    const saved = JSON.parse(localStorage.getItem(key(site)) || "null");
    return saved && saved.contact_id && saved.customer_token ? saved : null;
  } catch (_) {
    return null;
  }
}

export function saveChat(site, chat) {
  try {
    localStorage.setItem(key(site), JSON.stringify(chat));
  } catch (_) { /* storage refused (private mode): the chat works, a reload starts anew */ }
}

export function forgetChat(site) {
  try { localStorage.removeItem(key(site)); } catch (_) { /* nothing kept */ }
}
