// What the customer sees of the conversation: the messages in their language, the
// state of their own (sent, read), the agent typing, the line's status.

import { $, el, stickToBottom } from "./dom.js";
import { roughly, t, time } from "./i18n.js";

export class ChatView {
  // `language`: the contact's, the key of the translations made for the customer (its
  // primary subtag: `es`, never the page's `es-MX`).
  constructor(language) {
    this.language = String(language || "en").toLowerCase().split(/[-_]/)[0];
    this.items = new Map();  // message_id -> <li>
    this.typingTimer = null;
  }

  // A message from either side; the agent's (and the center's) in the customer's language
  // when translated.
  show(message) {
    const mine = message.sender === "customer";
    const text = mine ? message.text : (message.translations || {})[this.language] || message.text;
    const meta = el("span", { class: "meta" }, time(message.at_ms));
    const item = el("li", { class: mine ? "mine" : "theirs", "data-id": message.message_id,
      "data-sender": message.sender }, el("span", { class: "text" }, text), meta);
    if (message.sender === "center") {  // the center's own notice (an advisory), not the agent's
      item.classList.add("center");
      item.prepend(el("span", { class: "who" }, t("Notice from the center")));
    }
    if (mine) meta.append(" · ", el("span", { class: "delivery" }, t("Sent")));
    const known = this.items.get(message.message_id);
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

  notice(text) {
    stickToBottom($("messages-box"), () => $("messages").append(el("li", { class: "notice", "data-at": Date.now() }, text)));
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
    $("typing").textContent = agent ? t("{agent} is typing…", { agent }) : "";
    if (agent) this.typingTimer = setTimeout(() => this.typing(null), 5000);
  }

  waiting(position, ewtSeconds) {
    $("status").textContent = position
      ? t("You are number {position} in line. Estimated wait: {wait}.", { position, wait: roughly(ewtSeconds) })
      : t("Waiting for an agent…");
  }

  connected(agent) {
    $("status").textContent = t("You are chatting with {agent}.", { agent });
  }

  ended() {
    $("status").textContent = t("The chat has ended.");
    this.typing(null);
  }

  // The last message the agent sent, for the read receipt.
  lastFromAgent() {
    const theirs = [...this.items.values()].filter((item) => item.dataset.sender !== "customer");
    return theirs.length ? theirs[theirs.length - 1].dataset.id : null;
  }
}
