// What the customer sees of the conversation: the messages in their language, the
// state of their own (sent, read), the agent typing, the line's status.

import { $, el, setText, stickToBottom } from "./dom.js";
import { languageName, number, primary, roughly, t, time } from "./i18n.js";

export class ChatView {
  // `language`: the contact's, the key of the translations made for the customer (its
  // primary subtag: `es`, never the page's `es-MX`).
  constructor(language) {
    this.language = String(language || "en").toLowerCase().split(/[-_]/)[0];
    this.items = new Map();  // message_id -> <li>
    this.typingTimer = null;
  }

  // A message from either side; the agent's (and the center's) in the customer's language
  // when translated, else as written and said to be so (no pair for this chat, or the
  // engine failed: `missing_translation`). Each text in its own direction (dir="auto"):
  // an English answer on a Hebrew page reads left to right.
  show(message) {
    const mine = message.sender === "customer";
    const translated = mine ? undefined : (message.translations || {})[this.language];
    const text = translated || message.text;
    const written = primary(message.language);
    const untranslated = !mine && !translated && Boolean(written) && written !== primary(this.language);
    const meta = el("span", { class: "meta" }, time(message.at_ms));
    // Who wrote it, read before the text (the bubble's side and colour say it to the eye).
    const who = mine ? t("You said:") : message.sender === "center" ? null : t("{agent} said:", { agent: message.sender });
    const item = el("li", { class: mine ? "mine" : "theirs", "data-id": message.message_id,
      "data-sender": message.sender },
    who ? el("span", { class: "visually-hidden sender" }, who, " ") : null,
    el("span", { class: "text", dir: "auto", lang: translated ? this.language : message.language || undefined }, text),
    meta);
    if (untranslated) {
      item.insertBefore(el("span", { class: "untranslated" },
        t("Not translated from {language}", { language: languageName(written) })), meta);
    }
    // The router masked a card number the customer typed (`redacted`): said under their
    // own message, read with it (no live line of its own). The agent's side has its notice
    // on the desk.
    if (mine && (message.redacted || []).includes("card_number")) {
      item.insertBefore(el("span", { class: "redacted-note" },
        t("For your security, we hid the card number. Please don't send card details in the chat.")), meta);
    }
    if (message.sender === "center") {  // the center's own notice (an advisory), not the agent's
      item.classList.add("center");
      item.prepend(el("span", { class: "who" }, t("Notice from the center")));
    }
    if (mine) meta.append(" · ", el("span", { class: "delivery" }, t("Sent")));
    const known = this.items.get(message.message_id);
    // Shown already as it is (the answer to the send and its event, a reconnect's read):
    // left alone, not read out again by the log.
    if (known && known.dataset.shown === text + String(untranslated)) return;
    item.dataset.shown = text + String(untranslated);
    stickToBottom($("messages-box"), () => {
      if (known) known.replaceWith(item);
      else this.insertInOrder(item, message.at_ms);
    });
    item.dataset.at = message.at_ms;
    if (known && known.dataset.read) this.markRead(item);
    this.items.set(message.message_id, item);
    if (!mine) this.typing(null);
  }

  insertInOrder(item, at) {
    item.dataset.at = at;
    const list = $("messages");
    const later = [...list.children].find((other) => Number(other.dataset.at) > at);
    list.insertBefore(item, later || null);
  }

  // A line of the page's own; `at` (ms) puts it among the messages by time, else last.
  notice(text, at) {
    const item = el("li", { class: "notice", "data-at": at ?? Date.now() }, text);
    stickToBottom($("messages-box"), () => {
      if (at === undefined) $("messages").append(item);
      else this.insertInOrder(item, at);
    });
  }

  // The agent read up to `messageId`: every message of the customer's before it is read.
  read(messageId) {
    const upTo = this.items.get(messageId);
    if (!upTo) return;
    for (const item of this.items.values()) {
      if (item.dataset.sender === "customer" && Number(item.dataset.at) <= Number(upTo.dataset.at)) this.markRead(item);
    }
  }

  markRead(item) {
    item.dataset.read = "1";
    const delivery = item.querySelector(".delivery");
    if (delivery) delivery.textContent = t("Read");
  }

  typing(agent) {
    clearTimeout(this.typingTimer);
    setText($("typing"), agent ? t("{agent} is typing…", { agent }) : "");
    if (agent) this.typingTimer = setTimeout(() => this.typing(null), 5000);
  }

  // No wait (`ewtSeconds` null) while nobody can take the chat: the place alone, in the
  // page's digits as the wait is (١ on an Arabic page).
  waiting(position, ewtSeconds) {
    let text = t("Waiting for an agent…");
    const place = position ? number(position) : "";
    if (position && ewtSeconds == null) text = t("You are number {position} in line.", { position: place });
    else if (position) text = t("You are number {position} in line. Estimated wait: {wait}.", { position: place, wait: roughly(ewtSeconds) });
    this.waitingText = text;
    this.say(text);
  }

  // Still waiting (the contact read again): the place in line known stays said.
  stillWaiting() {
    if (this.waitingText) this.say(this.waitingText);
    else this.waiting(null);
  }

  // The status line is a live region: written only when its text changes, so that the
  // same words (the place in line, pushed every few seconds) are not read out again.
  say(text) {
    setText($("status"), text);
  }

  connected(agent) {
    this.waitingText = null;
    this.say(t("You are chatting with {agent}.", { agent }));
  }

  ended() {
    this.waitingText = null;
    this.say(t("The chat has ended."));
    this.typing(null);
  }

  // The last message the agent sent, for the read receipt.
  lastFromAgent() {
    const theirs = [...this.items.values()].filter((item) => item.dataset.sender !== "customer");
    return theirs.length ? theirs[theirs.length - 1].dataset.id : null;
  }
}
