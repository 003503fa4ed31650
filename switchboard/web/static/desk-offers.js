// Ringing offers, one card each: channel, queue, language, wait so far, the customer's
// tier, why it came here, the ring timer; accept or decline. An offer that rang out
// (RONA), or a call that could not reach the agent's phone, stays on screen as such.
// The cards are no live region (their timers change every second): each new offer, and
// each missed one, is said once, in a line of its own (#offer-news, assertive).

import { problem } from "./api.js";
import { explain } from "./desk-explain.js";
import { $, el } from "./dom.js";
import { N_, duration, number, t } from "./i18n.js";
import { customerLanguage } from "./words.js";

// Offers that ended without an answer and what the agent is told (they are now not
// ready): by the reason of the offer_revoked event.
const MISSED = {
  no_answer: {
    title: N_("Missed offer (ring no answer)"),
    text: N_("The contact ({queue}) rang out and went back to its queue. You are now not ready."),
  },
  phone_unreachable: {
    title: N_("Your phone could not be reached"),
    text: N_("The call ({queue}) never rang your phone and went back to its queue. Check that your softphone is on and signed in with your SIP account, and that its settings let it take the center's calls (audio codecs, no password asked for incoming calls), then set yourself available. You are now not ready."),
  },
};
// The not-ready reasons an offer ending leaves the agent with besides "no answer"
// (routing.lua, NOT_READY_AFTER), as the state line shows them (desk-main.js).
N_("phone busy"); N_("phone unreachable");

export class Offers {
  constructor(desk) {
    this.desk = desk;
    this.cards = new Map();  // contact_id -> { card, offer, until }
    this.seen = new Map();  // contact_id -> the last offer (a call's masked number)
    this.changed = new Map();  // contact_id -> when its card last came or went (ms)
    setInterval(() => this.tick(), 1000);
  }

  add(offer) {
    this.remove(offer.contact_id);
    this.seen.set(offer.contact_id, offer);
    const voice = offer.channel === "voice";
    const timer = el("progress", { max: offer.ring_s, value: offer.ring_s, "aria-hidden": "true" });
    const left = el("span", { class: "ring-left" });
    const waited = el("dd", { class: "waited" });
    const card = el("article", { class: "panel offer", "data-contact": offer.contact_id,
      "aria-label": t("Offer: {channel} in {queue}", { channel: channelName(offer.channel), queue: this.desk.queueName(offer.queue) }) },
    el("h3", {}, voice ? t("Incoming call") : t("Incoming chat"), " · ", this.desk.queueName(offer.queue)),
    el("dl", {},
      el("dt", {}, t("Language")), el("dd", { class: "language" }, customerLanguage(offer)),
      el("dt", {}, t("Waiting")), waited,
      el("dt", {}, t("Customer tier")), el("dd", { class: "tier" }, t(offer.tier || "standard")),
      voice && offer.customer_id ? [el("dt", {}, t("Caller")), el("dd", {}, offer.customer_id)] : null),
    el("p", { class: "why" }, el("strong", {}, t("Why you:")), " ", explain(offer.explanation, offer, this.desk.agent)),
    timer, el("p", { class: "dim" }, left),
    el("div", { class: "row" },
      voice
        ? el("span", {}, t("Answer on your softphone."))
        : el("button", { type: "button", class: "accept", onclick: (event) => this.accept(offer, event.detail === 0) }, t("Accept")),
      el("button", { type: "button", class: "secondary decline", onclick: () => this.decline(offer) }, t("Decline"))),
    el("p", { class: "error", role: "alert" }));
    $("offers").append(card);
    this.announce([voice ? t("Incoming call") : t("Incoming chat"), this.desk.queueName(offer.queue),
      customerLanguage(offer), t("Ringing: {seconds} s left", { seconds: number(Math.ceil(offer.ring_s)) })].join(", "));
    this.changed.set(offer.contact_id, performance.now());
    this.cards.set(offer.contact_id, { card, offer, until: Date.now() + offer.ring_s * 1000, timer, left, waited });
    this.tick();
  }

  // What rings now, after a reload or a reconnect (the offer events went to a page that
  // is gone, or were sent while the socket was down): a card for each not shown yet, and
  // a ringing card gone whose offer no longer rings (a missed offer's card stays). A card
  // an event brought or took while the answer was on its way is left as the event said:
  // the answer is older than the event.
  async refresh() {
    const asked = performance.now();
    const agent = encodeURIComponent(this.desk.agent.agent_id);
    const answer = await this.desk.call("GET", `/api/v1/agents/${agent}/offers`);
    if (!answer.ok) return;
    const current = (id) => (this.changed.get(id) ?? -Infinity) < asked;
    const ringing = new Set(answer.body.offers.map((offer) => offer.contact_id));
    for (const [id, entry] of [...this.cards]) {
      if (entry.until && !ringing.has(id) && current(id)) this.remove(id);
    }
    for (const offer of answer.body.offers) {
      if (!this.cards.has(offer.contact_id) && current(offer.contact_id)) this.add(offer);
    }
  }

  // One line for assistive technology, said once (the latest few kept: two offers that
  // come together are both said).
  announce(text) {
    const news = $("offer-news");
    news.append(el("p", {}, text));
    while (news.children.length > 3) news.firstElementChild.remove();
  }

  tick() {
    for (const entry of this.cards.values()) {
      if (!entry.until) continue;
      const left = Math.max(0, (entry.until - Date.now()) / 1000);
      entry.timer.value = left;
      entry.left.textContent = t("Ringing: {seconds} s left", { seconds: number(Math.ceil(left)) });
      entry.waited.textContent = duration((Date.now() - entry.offer.queued_at) / 1000);
    }
  }

  // `byKeyboard`: Enter or Space on Accept (a click of detail 0). The keyboard's place is
  // on the card, which goes (maybe before the answer, with the contact_connected event):
  // it goes on into the conversation taken. A mouse click leaves the view as it is.
  async accept(offer, byKeyboard = false) {
    const entry = this.cards.get(offer.contact_id);
    const focused = byKeyboard && entry && entry.card.contains(document.activeElement);
    const answer = await this.desk.call("POST", `/api/v1/contacts/${offer.contact_id}/accept`);
    if (!answer.ok) {
      if (entry) entry.card.querySelector(".error").textContent = problem(answer);
      return;
    }
    this.remove(offer.contact_id);
    this.desk.open(answer.body);
    if (focused) this.desk.focusConversation(offer.contact_id);
  }

  async decline(offer) {
    const answer = await this.desk.call("POST", `/api/v1/contacts/${offer.contact_id}/decline`);
    if (!answer.ok && answer.status !== 409) {
      const entry = this.cards.get(offer.contact_id);
      if (entry) entry.card.querySelector(".error").textContent = problem(answer);
      return;
    }
    this.remove(offer.contact_id);
  }

  // The offer ended without an answer: a ring-out (RONA), or a phone the call could not
  // reach at all (not registered, switched off), stays on screen until dismissed.
  revoke(event) {
    const entry = this.cards.get(event.contact_id);
    if (!entry) return;
    const missed = MISSED[event.reason];
    if (!missed) { this.remove(event.contact_id); return; }
    entry.until = 0;
    entry.card.classList.add("missed");
    const text = t(missed.text, { queue: this.desk.queueName(entry.offer.queue) });
    this.announce(`${t(missed.title)}. ${text}`);
    entry.card.replaceChildren(
      el("h3", {}, t(missed.title)),
      el("p", {}, text),
      el("button", { type: "button", class: "secondary", onclick: () => this.remove(event.contact_id) }, t("Dismiss")));
  }

  remove(contactId) {
    const entry = this.cards.get(contactId);
    if (entry) entry.card.remove();
    this.cards.delete(contactId);
    this.changed.set(contactId, performance.now());
  }

  clear() {
    for (const id of [...this.cards.keys()]) this.remove(id);
    $("offer-news").replaceChildren();
  }
}

export function channelName(channel) {
  return channel === "voice" ? t("call") : t("chat");
}
