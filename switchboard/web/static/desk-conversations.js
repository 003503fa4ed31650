// The agent's conversations in tabs (up to their capacity), each a chat or a call, with
// an unread marker on tabs not in view and a flag on those whose customer's words
// triggered (emotion: `contact_flagged`, or the triggers kept on the contact); the one in
// view shows its customer beside it. Each tab says whose it is (the signed-in customer's
// id, the caller's number, else the customer's language and when the chat began; a short
// contact id tells apart two that read the same), and the tabs follow the WAI-ARIA tabs
// pattern: one tab in the Tab order, arrow keys, Home and End move and select.

import { ChatPanel } from "./desk-chat.js";
import { showCustomer } from "./desk-customer.js";
import { VoicePanel } from "./desk-voice.js";
import { $, el } from "./dom.js";
import { number, t, time } from "./i18n.js";
import { customerLanguage } from "./words.js";

const TERMINAL = ["completed", "abandoned", "failed"];

export class Conversations {
  constructor(desk) {
    this.desk = desk;
    this.open_ = new Map();  // contact_id -> { contact, panel, tab, unread }
    this.flags = new Map();  // contact_id -> the words that flagged it (a Set)
    this.changed = new Map();  // contact_id -> when an event last closed or ended its tab
    this.current = null;
  }

  ids() { return [...this.open_.keys()]; }

  // A contact this agent now holds (accepted chat, answered call); one with a tab
  // already takes the contact's current data (it was offered or connected again, or
  // read again).
  open(contact) {
    const known = this.open_.get(contact.contact_id);
    if (known) return this.update(known, contact);
    const entry = { contact, unread: 0, since: Date.now() };
    entry.panel = this.panel(contact);
    entry.badge = el("span", { class: "unread", hidden: true });
    entry.who = el("span", { class: "tab-who" });
    entry.kind = el("span", { class: "tab-kind" });
    entry.tab = el("button", {
      type: "button", role: "tab", id: `tab-${contact.contact_id}`, "aria-selected": "false",
      "aria-controls": entry.panel.root.id, "data-contact": contact.contact_id, tabindex: "-1",
      onclick: () => this.show(contact.contact_id),
      onkeydown: (event) => this.key(event),
    }, entry.kind, entry.badge, entry.who);
    this.kind(entry);
    entry.panel.root.setAttribute("aria-labelledby", entry.tab.id);
    $("tabs").append(entry.tab);
    $("panels").append(entry.panel.root);
    this.open_.set(contact.contact_id, entry);
    this.label();
    this.showFlag(contact.contact_id);
    this.loadFlags(contact.contact_id);
    $("no-work").hidden = true;
    this.desk.remember();
    if (!this.current || !this.open_.has(this.current)) this.show(contact.contact_id);
    else entry.panel.root.hidden = true;
    if (TERMINAL.includes(contact.state)) entry.panel.ended(contact.state);
    return entry;
  }

  panel(contact) {
    const Panel = contact.channel === "voice" ? VoicePanel : ChatPanel;
    const panel = new Panel(this.desk, contact, {
      unread: () => this.unread(contact.contact_id),
      done: () => this.close(contact.contact_id),
    });
    panel.root.setAttribute("role", "tabpanel");
    return panel;
  }

  kind(entry) {
    const { channel, queue } = entry.contact;
    entry.kind.replaceChildren(channel === "voice" ? t("Call") : t("Chat"), " · ", this.desk.queueName(queue));
  }

  // A tab's contact as it is now. One that changed queue (another session of the agent
  // transferred it, and it came back) or is live again gets a new panel: that queue's
  // canned replies and wrap-up codes; the reply being written stays.
  update(entry, contact) {
    const was = entry.contact;
    entry.contact = contact;
    entry.since = Date.now();
    const live = !TERMINAL.includes(contact.state);
    if (was.queue !== contact.queue || was.channel !== contact.channel || (live && entry.panel.isOver)) {
      const panel = this.panel(contact);
      if (entry.panel.text && panel.text) panel.text.value = entry.panel.text.value;
      panel.root.hidden = entry.panel.root.hidden;
      panel.root.setAttribute("aria-labelledby", entry.tab.id);
      if (entry.flagNote) panel.root.insertBefore(entry.flagNote, panel.root.children[1] || null);
      entry.panel.root.replaceWith(panel.root);
      entry.panel = panel;
      this.kind(entry);
    }
    if (!live) entry.panel.ended(contact.state);
    this.label();
    if (this.current === contact.contact_id) showCustomer(this.desk, contact);
    return entry;
  }

  // What the agent holds and whose wrap-up they owe, as the server knows it (on sign-in
  // and whenever the events socket (re)opens, after their events, and now and then):
  // a tab for each chat or call held (an offer has its card), one with its wrap-up form
  // for each wrap-up owed, whichever tab or browser they were taken in; a live tab
  // whose contact is no longer theirs (another session of theirs transferred it) goes.
  async sync() {
    const asked = Date.now();
    const agent = encodeURIComponent(this.desk.agent.agent_id);
    const answer = await this.desk.call("GET", `/api/v1/agents/${agent}/contacts`);
    if (!answer.ok) return;
    // An event that closed or ended a tab after the read was asked is newer than the
    // answer: the answer does not open that tab again (the next read will say).
    const current = (id) => (this.changed.get(id) ?? -Infinity) < asked;
    const theirs = new Set();
    for (const contact of answer.body.contacts) {
      theirs.add(contact.contact_id);
      // a tab takes it once accepted
      if (contact.state !== "offered" && current(contact.contact_id)) this.open(contact);
    }
    for (const owed of answer.body.wrap_ups) {
      theirs.add(owed.contact.contact_id);
      if (current(owed.contact.contact_id)) this.open(owed.contact);
    }
    for (const [id, entry] of [...this.open_]) {
      if (!theirs.has(id) && !entry.panel.isOver && entry.since < asked) this.close(id);
    }
  }

  show(contactId) {
    this.current = contactId;
    for (const [id, entry] of this.open_) {
      const shown = id === contactId;
      entry.panel.root.hidden = !shown;
      entry.tab.setAttribute("aria-selected", String(shown));
      entry.tab.tabIndex = shown ? 0 : -1;
      if (shown) {
        entry.unread = 0;
        entry.badge.hidden = true;
        entry.panel.visible();
      }
    }
    const entry = this.open_.get(contactId);
    if (entry) showCustomer(this.desk, entry.contact);
  }

  // An offer accepted from its card: its conversation is shown and the keyboard goes on
  // into it (a chat's reply box, else its tab).
  focus(contactId) {
    const entry = this.open_.get(contactId);
    if (!entry) return;
    this.show(contactId);
    (entry.panel.text || entry.tab).focus();
  }

  // Whose conversation a tab is: what the agent knows of the customer, else the
  // customer's language and when the contact began.
  who(contact) {
    const id = (contact.customer && contact.customer.id) || "";
    if (contact.channel === "voice") return this.desk.caller(contact) || customerLanguage(contact);
    if (id && !id.startsWith("anon-")) return id;
    const times = contact.timestamps || {};
    const began = Date.parse(times.arrived_at || times.queued_at || "");
    if (Number.isNaN(began)) return customerLanguage(contact);
    return t("{language}, since {time}", { language: customerLanguage(contact), time: time(began) });
  }

  // Labels every tab; two that would read the same also show a short contact id (each
  // part isolated, so that an id reads right in a right-to-left page).
  label() {
    const labels = new Map([...this.open_].map(([id, entry]) => [id, this.who(entry.contact)]));
    const seen = [...labels.values()];
    for (const [id, entry] of this.open_) {
      const text = labels.get(id);
      const twice = seen.indexOf(text) !== seen.lastIndexOf(text);
      entry.who.replaceChildren(el("bdi", {}, text),
        ...(twice ? [" · ", el("bdi", { class: "short-id" }, `#${id.slice(0, 6)}`)] : []));
    }
  }

  // The WAI-ARIA tabs keys: ArrowRight / ArrowLeft to the next / previous tab (wrapping
  // around, mirrored right to left), Home / End to the first / last; the tab moved to is
  // shown and takes the focus.
  key(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const tabs = [...$("tabs").querySelectorAll("[role=tab]")];
    const at = tabs.indexOf(event.currentTarget);
    const back = getComputedStyle($("tabs")).direction === "rtl" ? 1 : -1;
    let to;
    switch (event.key) {
      case "ArrowRight": to = at - back; break;
      case "ArrowLeft": to = at + back; break;
      case "Home": to = 0; break;
      case "End": to = tabs.length - 1; break;
      default: return;
    }
    event.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    this.show(tab.dataset.contact);
    tab.focus();
  }

  unread(contactId) {
    const entry = this.open_.get(contactId);
    if (!entry || (contactId === this.current && document.visibilityState === "visible")) return false;
    entry.unread += 1;
    entry.badge.hidden = false;
    entry.badge.textContent = number(entry.unread);
    entry.badge.setAttribute("aria-label", t("{count} unread", { count: number(entry.unread) }));
    return true;
  }

  // A conversation leaves the desk (transferred, wrapped up, requeued, no longer the
  // agent's): its tab goes, and the state line reads again what the agent holds now
  // (a transfer out sends this desk no event of its own).
  close(contactId) {
    if (this.remove(contactId)) this.desk.refreshAgent();
  }

  remove(contactId) {
    this.changed.set(contactId, Date.now());
    const entry = this.open_.get(contactId);
    if (!entry) return false;
    const focused = entry.tab.contains(document.activeElement) || entry.panel.root.contains(document.activeElement);
    entry.tab.remove();
    entry.panel.root.remove();
    this.open_.delete(contactId);
    this.flags.delete(contactId);
    this.desk.remember();
    this.label();
    if (this.current === contactId) {
      this.current = null;
      const next = this.ids()[0];
      if (next) this.show(next);
      else showCustomer(this.desk, null);
    }
    // The keyboard's place was in what went: on to the tab now in view.
    if (focused && this.current) this.open_.get(this.current).tab.focus();
    $("no-work").hidden = this.open_.size > 0;
    return true;
  }

  // Signed out: every tab goes, nothing is read again.
  clear() {
    for (const id of this.ids()) this.remove(id);
  }

  async connected(event) {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${event.contact_id}`);
    if (answer.ok && answer.body.agent_id === this.desk.agent.agent_id) this.open(answer.body);
  }

  message(event) { this.open_.get(event.contact_id)?.panel.message?.(event); }
  typing(event) { this.open_.get(event.contact_id)?.panel.typing?.(event); }
  read(event) { this.open_.get(event.contact_id)?.panel.read?.(event); }
  hold(event) { this.open_.get(event.contact_id)?.panel.held?.(event.on_hold_since); }
  recording(event) { this.open_.get(event.contact_id)?.panel.recordingChanged?.(event); }

  // The customer's words triggered (emotion): flag the conversation, now or once open.
  flagged(event) {
    this.addFlag(event.contact, event.words);
  }

  addFlag(contactId, words) {
    if (!contactId) return;
    const known = this.flags.get(contactId) || new Set();
    for (const word of words || []) known.add(word);
    this.flags.set(contactId, known);
    this.showFlag(contactId);
  }

  // The triggers kept on the contact (a reload, a reconnect, a flag before it was ours).
  async loadFlags(contactId) {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${contactId}/case`);
    if (!answer.ok) return;
    for (const trigger of answer.body.triggers || []) this.addFlag(contactId, trigger.words);
  }

  showFlag(contactId) {
    const entry = this.open_.get(contactId);
    const words = this.flags.get(contactId);
    if (!entry || !words) return;
    if (!entry.flag) {
      entry.flag = el("span", { class: "flag" }, el("span", { "aria-hidden": "true" }, "⚑ "), t("Flagged"));
      entry.tab.insertBefore(entry.flag, entry.who);
      entry.flagNote = el("p", { class: "flag-note", role: "status" });
      const root = entry.panel.root;
      root.insertBefore(entry.flagNote, root.children[1] || null);
    }
    entry.flagNote.textContent = words.size
      ? t("Flagged: the customer seems upset ({words}).", { words: [...words].join(", ") })
      : t("Flagged: the customer seems upset.");
  }

  closed(event) {
    this.changed.set(event.contact_id, Date.now());
    const entry = this.open_.get(event.contact_id);
    if (!entry) return;
    entry.panel.ended(event.state);
    // the customer's history shows this contact's outcome, not "connected", in wrap-up
    if (this.current === event.contact_id) showCustomer(this.desk, entry.contact);
  }

  refreshAll() {
    for (const [id, entry] of this.open_) {
      entry.panel.refresh?.();
      this.loadFlags(id);
    }
  }
}
