// One chat on the desktop: the customer's messages in the agent's language (the
// original one click away), the agent's own with their delivery state, typing, canned
// replies of the queue in the agent's language, transfer, end, then the wrap-up.

import { problem } from "./api.js";
import { TransferControl } from "./desk-transfer.js";
import { WrapUpForm } from "./desk-wrapup.js";
import { el, options, setText, stickToBottom } from "./dom.js";
import { languageName, primary, t, time } from "./i18n.js";
import { MessageSender } from "./sending.js";
import { customerLanguage } from "./words.js";


export class ChatPanel {
  constructor(desk, contact, { unread, done }) {
    Object.assign(this, { desk, contact, unread, done });
    this.items = new Map();
    this.messages = new Map();  // message_id -> the message, to show again in another language
    this.lastTyping = 0;
    const me = desk.agent;
    this.mine = [...new Set((me.languages || []).map(primary))];
    // The languages routing matched this offer on (the contact's `matched_languages`).
    this.routed = (contact.matched_languages || []).map(primary);
    // What the agent reads and writes in (router/chat.py agent_language): the customer's
    // language when they speak it; else, until the messages tell what the server chose
    // (learn), the first of theirs the routing matched them on (the language whose
    // translation pair let them take the chat), else their first.
    this.speaks = !this.mine.length || this.mine.includes(primary(contact.language));
    this.language = this.speaks ? contact.language
      : this.mine.find((language) => this.routed.includes(language)) || this.mine[0];
    this.list = el("ol", { class: "messages" });
    this.box = el("div", { class: "messages-box", role: "log", "aria-live": "polite", tabindex: "0",
      "aria-label": t("Messages") }, this.list);
    this.typingLine = el("p", { class: "typing", "aria-live": "polite" });
    this.text = el("textarea", { id: `reply-${contact.contact_id}`, class: "reply", rows: 3,
      oninput: () => this.sendTyping(),
      onkeydown: (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
      } });
    this.error = el("p", { class: "error", role: "alert" });
    this.sender = new MessageSender(this.text, {
      post: (text, id) => this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/messages`,
        { text, client_message_id: id }),
      delivered: (message) => { this.learn([message]); this.show(message); },
      problem,
      report: (text) => { this.error.textContent = text; },
    });
    this.canned = this.cannedPicker() || el("div", { hidden: true });
    this.composer = el("form", { class: "composer", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); this.send(); } },
    this.canned,
    el("label", { for: this.text.id }, t("Reply")), this.text, this.error,
    el("div", { class: "row" },
      el("button", { type: "submit", class: "send" }, t("Send")),
      el("button", { type: "button", class: "danger end-chat", onclick: () => this.end() }, t("End chat"))));
    this.transfer = new TransferControl(desk, contact, () => done());
    this.wrapUp = new WrapUpForm(desk, contact, () => done());
    this.root = el("section", { class: "conversation", id: `panel-${contact.contact_id}`,
      "data-contact": contact.contact_id },
    el("div", { class: "facts dim" },
      el("span", { class: "topic" }, t("Topic: {topic}", { topic: desk.queueName(contact.queue) })),
      // The customer's own tag: "Chinese (Taiwan)" tells the agent the script, not just "Chinese".
      el("span", {}, t("Customer writes in {language}", { language: customerLanguage(contact) })),
      this.translatedFact = el("span", { class: "translated-for-you" })),
    this.box, this.typingLine, this.composer, this.transfer.root, this.wrapUp.root);
    this.showLanguage();
    this.refresh();
  }

  // Whether the customer's words reach the agent translated, as their latest message
  // shows it: translated into the agent's language, or not (no pair for this chat, or
  // the engine failed: `missing_translation`). Nothing is claimed before a message says
  // which, nor when the agent reads the customer's own language.
  showLanguage() {
    const latest = this.latest;
    const from = primary(latest ? latest.language : this.contact.language);
    let said = "";
    if (latest && from !== primary(this.language)) {
      said = (latest.translations || {})[this.language]
        ? t("Translated into {language} for you", { language: languageName(this.language) })
        : t("No translation from {from} into {into} in this chat",
          { from: languageName(from), into: languageName(this.language) });
    }
    this.translatedFact.hidden = !said;
    this.translatedFact.textContent = said;
  }

  // The language the server carries the agent's side in, as the messages show it: the
  // one the agent's own messages were written in, or the one of theirs the customer's
  // latest message was translated into (or found no pair for). A change shows every
  // message again, and the canned replies of that language.
  learn(messages) {
    for (const message of messages) {  // the customer's latest, for showLanguage
      if (message.sender === "customer" && !(this.latest && this.latest.at_ms > message.at_ms)) this.latest = message;
    }
    let found = null;
    for (const message of this.speaks ? [] : messages) {
      if (message.sender === this.desk.agent.agent_id) {
        if (this.mine.includes(message.language)) found = message.language;
      } else if (message.sender === "customer") {
        const into = [...Object.keys(message.translations || {}),
          ...(message.missing_translation || []).map((pair) => pair.split(">")[1])];
        const targets = this.mine.filter((language) => into.includes(language));
        if (targets.length) {
          found = [this.language, ...this.routed].find((language) => targets.includes(language)) || targets[0];
        }
      }
    }
    if (found && found !== this.language) {
      this.language = found;
      const canned = this.cannedPicker() || el("div", { hidden: true });
      this.canned.replaceWith(canned);
      this.canned = canned;
      for (const message of this.messages.values()) this.show(message, false);
    }
    this.showLanguage();
  }

  cannedPicker() {
    const queue = (this.desk.config.queues || {})[this.contact.queue] || {};
    const replies = (queue.canned || []).filter((reply) => reply.language === this.language);
    if (!replies.length) return null;
    const id = `canned-${this.contact.contact_id}`;
    const select = el("select", { id, class: "canned" });
    options(select, [["", t("Canned replies…")], ...replies.map((reply, i) => [String(i), reply.title])]);
    select.addEventListener("change", () => {
      const reply = replies[Number(select.value)];
      if (reply) { this.text.value = reply.text; this.text.focus(); }
      select.value = "";
    });
    return el("div", { class: "row" }, el("label", { for: id }, t("Canned reply")), select);
  }

  async refresh() {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${this.contact.contact_id}/messages`);
    if (answer.ok) {
      this.learn(answer.body.messages);
      for (const message of answer.body.messages) this.show(message, false);
      // How far the customer has read, kept by the server (a reload shows "Read" again).
      const read = answer.body.read || {};
      if (read.customer) this.read({ by: "customer", message_id: read.customer });
    }
    this.acknowledge();
  }

  // By time, as the customer's page does: a message heard live can come before the
  // transcript the tab loads holds the ones written before it.
  insertInOrder(item, at) {
    item.dataset.at = at;
    const later = [...this.list.children].find((other) => Number(other.dataset.at) > at);
    this.list.insertBefore(item, later || null);
  }

  show(message, fresh = true) {
    this.messages.set(message.message_id, message);
    const mine = message.sender !== "customer";
    const translations = message.translations || {};
    const shown = mine ? message.text : translations[this.language] || message.text;
    const other = mine ? translations[this.contact.language] : message.text;
    // Not translated where the reader's language is another: no pair for this chat, or
    // the engine failed (`missing_translation`); said on the message.
    const reader = mine ? this.contact.language : this.language;
    const untranslated = !translations[reader] && primary(message.language) !== primary(reader);
    const meta = el("span", { class: "meta" }, time(message.at_ms));
    const item = el("li", { class: mine ? "mine" : "theirs", "data-id": message.message_id,
      "data-sender": message.sender }, this.who(message), el("span", { class: "text", dir: "auto",
      lang: (mine || !translations[this.language] ? message.language : this.language) || undefined }, shown));
    if (untranslated) {
      item.append(el("span", { class: "untranslated" }, mine
        ? t("Not translated into {language}", { language: languageName(primary(reader)) })
        : t("Not translated from {language}", { language: languageName(primary(message.language)) })));
    }
    if (message.sender === "center") {  // an advisory posted by the center, not by the agent
      item.classList.add("center");
      item.prepend(el("span", { class: "who" }, t("Notice from the center")));
    }
    // The router masked a card number in it (`redacted`), whoever wrote it: the agent
    // takes the payment another way. Read with the message, not a live line of its own.
    if ((message.redacted || []).includes("card_number")) {
      item.append(el("span", { class: "redacted-note" }, t("Card number hidden (PCI)")));
    }
    if (other && other !== shown) {
      const original = el("span", { class: "original", hidden: true, dir: "auto",
        lang: mine ? this.contact.language : message.language }, other);
      const label = mine ? t("What the customer reads") : t("Original ({language})", { language: languageName(message.language) });
      item.append(el("button", { type: "button", class: "linklike toggle-original", "aria-expanded": "false",
        onclick: (event) => {
          original.hidden = !original.hidden;
          event.target.setAttribute("aria-expanded", String(!original.hidden));
        } }, label), original);
    }
    item.append(meta);
    if (mine) meta.append(" · ", el("span", { class: "delivery" }, t("Sent")));
    const known = this.items.get(message.message_id);
    // Shown already as it is (the answer to the send and its event, a reconnect's read):
    // left alone, not read out again by the log.
    const shownAs = JSON.stringify([shown, other, untranslated]);
    if (known && known.dataset.shown === shownAs) return;
    item.dataset.shown = shownAs;
    stickToBottom(this.box, () => {
      if (known) known.replaceWith(item);
      else this.insertInOrder(item, message.at_ms);
    });
    item.dataset.at = message.at_ms;
    if (known && known.dataset.read) this.markRead(item);
    this.items.set(message.message_id, item);
    if (!known && !mine && fresh) {
      this.typingLine.textContent = "";
      this.unread();
    }
  }

  // Who wrote a message, read before its text (the bubble's side and colour say it to the
  // eye); the center's notice says it in sight.
  who(message) {
    if (message.sender === "center") return null;
    const said = message.sender === "customer" ? t("The customer said:")
      : message.sender === this.desk.agent.agent_id ? t("You said:")
        : t("{agent} said:", { agent: message.sender });
    return el("span", { class: "visually-hidden sender" }, said, " ");
  }

  message(event) { this.learn([event]); this.show(event); this.acknowledge(); }

  visible() { this.acknowledge(); }

  // The customer has been shown their latest message: tell them it was read.
  acknowledge() {
    if (this.root.hidden || document.visibilityState !== "visible") return;
    const theirs = [...this.items.values()].filter((item) => item.dataset.sender === "customer");
    const last = theirs.length ? theirs[theirs.length - 1].dataset.id : null;
    if (last && last !== this.acknowledged) {
      this.acknowledged = last;
      this.desk.socket.send({ type: "read", contact_id: this.contact.contact_id, message_id: last });
    }
  }

  typing(event) {
    if (event.by !== "customer") return;
    clearTimeout(this.typingTimer);
    setText(this.typingLine, t("The customer is typing…"));
    this.typingTimer = setTimeout(() => { this.typingLine.textContent = ""; }, 5000);
  }

  read(event) {
    if (event.by !== "customer") return;
    const upTo = this.items.get(event.message_id);
    for (const item of this.items.values()) {
      if (item.dataset.sender === "customer") continue;
      if (upTo && Number(item.dataset.at) > Number(upTo.dataset.at)) continue;
      this.markRead(item);
    }
  }

  markRead(item) {
    item.dataset.read = "1";
    const delivery = item.querySelector(".delivery");
    if (delivery) delivery.textContent = t("Read");
  }

  sendTyping() {
    if (Date.now() - this.lastTyping < 2000) return;
    this.lastTyping = Date.now();
    this.desk.socket.send({ type: "typing", contact_id: this.contact.contact_id });
  }

  // What the reply box holds, one message at a time; only what was sent leaves the box.
  send() { return this.isOver ? null : this.sender.send(); }

  async end() {
    const answer = await this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/complete`);
    if (!answer.ok && answer.status !== 409) this.error.textContent = problem(answer);
  }

  // The chat is over: no more replies; the wrap-up takes their place. A chat the
  // customer left (reason `customer_left`: the window closed, or "End chat" on their
  // side) says so, also when it was connected (it ends completed then). Without the
  // event's reason (a reload, or a caller that passes the state alone) the contact's.
  async ended(state, reason) {
    if (this.isOver) return;
    this.isOver = true;
    // The agent writing a reply keeps the focus and their draft, which can no longer be
    // sent (and says so); the wrap-up comes next in the Tab order. Otherwise the reply
    // box goes, and the focus on it or on its buttons goes on to the wrap-up.
    const writing = document.activeElement === this.text;
    const active = document.activeElement;
    const lost = this.composer.contains(active) || this.transfer.root.contains(active)
      || ((!active || active === document.body) && !this.root.hidden);
    if (writing) {
      this.text.readOnly = true;
      for (const button of this.composer.querySelectorAll("button")) button.disabled = true;
      if (this.text.value.trim()) this.error.textContent = t("The chat has ended; your message was not sent.");
    } else {
      this.composer.hidden = true;
    }
    this.transfer.root.hidden = true;
    clearTimeout(this.typingTimer);
    this.wrapUp.show(lost && !writing);
    if (reason === undefined) {
      const answer = await this.desk.call("GET", `/api/v1/contacts/${this.contact.contact_id}`);
      reason = answer.ok ? answer.body.reason : null;
    }
    const left = reason === "customer_left" || state === "abandoned";
    stickToBottom(this.box, () => this.list.append(el("li", { class: "notice" },
      left ? t("The customer left the chat.") : t("The chat has ended."))));
    // Said (politely) after the end: what comes next, whether or not the focus moved.
    this.typingLine.textContent = t("Please fill in the wrap-up.");
  }
}
