// A call on the agent's softphone, as the desktop shows it: the caller's number (masked
// unless the center shows numbers), the IVR's choices (language, queue), the wait and
// the talk time, and how long the caller has been on hold while they are; hold (here or
// on the softphone), recording and (blind or consulted) transfer from here, hang-up on
// the softphone; then the wrap-up.

import { problem } from "./api.js";
import { TransferControl } from "./desk-transfer.js";
import { WrapUpForm } from "./desk-wrapup.js";
import { el } from "./dom.js";
import { duration, t } from "./i18n.js";
import { customerLanguage } from "./words.js";

export class VoicePanel {
  constructor(desk, contact, { done }) {
    Object.assign(this, { desk, contact, done });
    const times = contact.timestamps || {};
    this.queued = Date.parse(times.queued_at || times.arrived_at || "") || Date.now();
    this.answered = Date.parse(times.answered_at || "") || Date.now();
    this.talk = el("dd", { class: "talk-time" });
    this.transfer = new TransferControl(desk, contact, () => done(), { warm: true });
    this.recording = el("p", { class: "error", role: "alert" });
    this.recordButton = el("button", { type: "button", class: "secondary record",
      onclick: () => this.record() }, t("Record the call"));
    this.wrapUp = new WrapUpForm(desk, contact, () => done());
    this.status = el("p", { class: "dim" }, t("Hang up on your softphone."));
    this.onHold = el("p", { class: "status on-hold", role: "status" });
    this.holdButton = el("button", { type: "button", class: "secondary hold",
      onclick: () => this.toggleHold() });
    this.holdError = el("p", { class: "error hold-error", role: "alert" });
    this.held(contact.on_hold_since);
    this.root = el("section", { class: "conversation voice", id: `panel-${contact.contact_id}`,
      "data-contact": contact.contact_id },
    el("dl", { class: "facts" },
      el("dt", {}, t("Caller")), el("dd", { class: "caller" }, desk.caller(contact) || t("unknown")),
      el("dt", {}, t("Language chosen")), el("dd", {}, customerLanguage(contact)),
      el("dt", {}, t("Reason chosen")), el("dd", {}, desk.queueName(contact.queue)),
      el("dt", {}, t("Waited")), el("dd", {}, duration((this.answered - this.queued) / 1000)),
      el("dt", {}, t("Talk time")), this.talk),
    this.onHold, this.status,
    el("div", { class: "row" }, this.holdButton, this.holdError),
    el("div", { class: "row" }, this.recordButton, this.recording),
    this.transfer.root, this.wrapUp.root);
    this.timer = setInterval(() => this.tick(), 1000);
    this.tick();
  }

  tick() {
    this.talk.textContent = duration((Date.now() - this.answered) / 1000);
    this.onHold.hidden = !this.heldSince;
    if (this.heldSince) {
      this.onHold.textContent = t("On hold for {time}: the caller hears music.", {
        time: duration((Date.now() - this.heldSince) / 1000),
      });
    }
  }

  // The caller is on hold since `since` (ISO time; from here or the softphone), or not.
  held(since) {
    this.heldSince = since ? Date.parse(since) : null;
    this.holdButton.textContent = this.heldSince ? t("Take off hold") : t("Put on hold");
    if (this.timer) this.tick();
  }

  async toggleHold() {
    this.holdError.textContent = "";
    const answer = await this.desk.call(this.heldSince ? "DELETE" : "PUT",
      `/api/v1/contacts/${this.contact.contact_id}/hold`);
    if (!answer.ok) { this.holdError.textContent = problem(answer); return; }
    this.held(answer.body.on_hold_since);
  }

  async record() {
    this.recording.textContent = "";
    const answer = await this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/recording`);
    if (!answer.ok) { this.recording.textContent = problem(answer); return; }
    this.recordButton.hidden = true;
    this.recording.className = "status";
    this.recording.textContent = t("This call is being recorded.");
  }

  // After a reconnect: the hold may have changed while the events were not heard.
  async refresh() {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${this.contact.contact_id}`);
    if (answer.ok && !this.isOver) this.held(answer.body.on_hold_since);
  }

  visible() {}

  ended() {
    if (this.isOver) return;
    this.isOver = true;
    clearInterval(this.timer);
    this.held(null);
    this.holdButton.hidden = true;
    this.transfer.root.hidden = true;
    this.recordButton.hidden = true;
    this.status.textContent = t("The call has ended.");
    this.wrapUp.show();
  }
}
