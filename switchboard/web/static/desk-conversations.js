// The agent's conversations in tabs (up to their capacity), each a chat or a call, with
// an unread marker on tabs not in view; the one in view shows its customer beside it.

import { ChatPanel } from "./desk-chat.js";
import { showCustomer } from "./desk-customer.js";
import { VoicePanel } from "./desk-voice.js";
import { $, el } from "./dom.js";
import { t } from "./i18n.js";

export class Conversations {
  constructor(desk) {
    this.desk = desk;
    this.open_ = new Map();  // contact_id -> { contact, panel, tab, unread }
    this.current = null;
  }

  ids() { return [...this.open_.keys()]; }

  // A contact this agent now holds (accepted chat, answered call).
  open(contact) {
    if (this.open_.has(contact.contact_id)) return this.open_.get(contact.contact_id);
    const Panel = contact.channel === "voice" ? VoicePanel : ChatPanel;
    const entry = { contact, unread: 0 };
    entry.panel = new Panel(this.desk, contact, {
      unread: () => this.unread(contact.contact_id),
      done: () => this.close(contact.contact_id),
    });
    entry.badge = el("span", { class: "unread", hidden: true });
    entry.tab = el("button", {
      type: "button", role: "tab", id: `tab-${contact.contact_id}`, "aria-selected": "false",
      "aria-controls": entry.panel.root.id, "data-contact": contact.contact_id,
      onclick: () => this.show(contact.contact_id),
    }, contact.channel === "voice" ? t("Call") : t("Chat"), " · ", contact.queue, entry.badge);
    entry.panel.root.setAttribute("role", "tabpanel");
    entry.panel.root.setAttribute("aria-labelledby", entry.tab.id);
    $("tabs").append(entry.tab);
    $("panels").append(entry.panel.root);
    this.open_.set(contact.contact_id, entry);
    $("no-work").hidden = true;
    this.desk.remember();
    if (!this.current || !this.open_.has(this.current)) this.show(contact.contact_id);
    else entry.panel.root.hidden = true;
    return entry;
  }

  // A contact kept from before a reload: open again if it is still this agent's.
  async restore(contactId) {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${contactId}`);
    if (!answer.ok || answer.body.agent_id !== this.desk.agent.agent_id) return;
    const entry = this.open(answer.body);
    if (["completed", "abandoned", "failed"].includes(answer.body.state)) entry.panel.ended(answer.body.state);
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

  unread(contactId) {
    const entry = this.open_.get(contactId);
    if (!entry || (contactId === this.current && document.visibilityState === "visible")) return false;
    entry.unread += 1;
    entry.badge.hidden = false;
    entry.badge.textContent = String(entry.unread);
    entry.badge.setAttribute("aria-label", t("{count} unread", { count: entry.unread }));
    return true;
  }

  close(contactId) {
    const entry = this.open_.get(contactId);
    if (!entry) return;
    entry.tab.remove();
    entry.panel.root.remove();
    this.open_.delete(contactId);
    this.desk.remember();
    if (this.current === contactId) {
      this.current = null;
      const next = this.ids()[0];
      if (next) this.show(next);
      else showCustomer(this.desk, null);
    }
    $("no-work").hidden = this.open_.size > 0;
  }

  clear() {
    for (const id of this.ids()) this.close(id);
  }

  async connected(event) {
    if (this.open_.has(event.contact_id)) return;
    const answer = await this.desk.call("GET", `/api/v1/contacts/${event.contact_id}`);
    if (answer.ok && answer.body.agent_id === this.desk.agent.agent_id) this.open(answer.body);
  }

  message(event) { this.open_.get(event.contact_id)?.panel.message?.(event); }
  typing(event) { this.open_.get(event.contact_id)?.panel.typing?.(event); }
  read(event) { this.open_.get(event.contact_id)?.panel.read?.(event); }
  hold(event) { this.open_.get(event.contact_id)?.panel.held?.(event.on_hold_since); }

  closed(event) {
    const entry = this.open_.get(event.contact_id);
    if (entry) entry.panel.ended(event.state);
  }

  refreshAll() {
    for (const entry of this.open_.values()) entry.panel.refresh?.();
  }
}
