// A call on the agent's softphone, as the desktop shows it: the caller's number (masked
// unless the center shows numbers), the IVR's choices (language, queue), the wait and
// the talk time, and how long the caller has been on hold while they are; hold (here or
// on the softphone), recording, its pause while the caller gives card details (PCI DSS)
// and (blind or consulted) transfer from here, hang-up on the softphone; then the wrap-up.

import { problem } from "./api.js";
import { TransferControl } from "./desk-transfer.js";
import { WrapUpForm } from "./desk-wrapup.js";
import { el, setText } from "./dom.js";
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
    // Pause for card details: on every call the agent holds, as the desk cannot tell a
    // queue that records all its calls (`[recording] queues`); the API's 409 says when
    // there is nothing to pause.
    const pauseError = `pause-error-${contact.contact_id}`;
    // Its label says what it does ("Pause recording", "Resume recording"): a button whose
    // label changes is not also a toggle (aria-pressed), as WAI-ARIA's button pattern asks.
    this.pauseButton = el("button", { type: "button", class: "secondary pause-recording",
      "aria-describedby": pauseError, onclick: () => this.togglePause() });
    this.pauseError = el("p", { class: "error pause-error", id: pauseError, role: "alert" });
    this.pausedNote = el("p", { class: "recording-paused", hidden: true });
    this.pauseNews = el("div", { class: "visually-hidden pause-news", "aria-live": "polite" });
    this.wrapUp = new WrapUpForm(desk, contact, () => done());
    this.status = el("p", { class: "dim" }, t("Hang up on your softphone."));
    // Seen, not said every second: the hold button's label tells the change.
    this.onHold = el("p", { class: "status on-hold" });
    this.holdButton = el("button", { type: "button", class: "secondary hold",
      onclick: () => this.toggleHold() });
    this.holdError = el("p", { class: "error hold-error", role: "alert" });
    this.held(contact.on_hold_since);
    this.paused(contact.recording_paused_since);
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
    el("div", { class: "row" }, this.pauseButton, this.pauseError),
    this.pausedNote, this.pauseNews,
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
    // Seen, not said: the change itself is said once (`announce`), not every second.
    this.pausedNote.hidden = !this.pausedSince;
    if (this.pausedSince) {
      setText(this.pausedNote, t("Recording paused for {time}", {
        time: duration(Math.max(0, Date.now() - this.pausedSince) / 1000),
      }));
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

  // The recording is paused since `since` (ISO time), or records (null).
  paused(since) {
    this.pausedSince = since ? Date.parse(since) || Date.now() : null;
    const on = Boolean(this.pausedSince);
    this.pauseButton.textContent = on ? t("Resume recording") : t("Pause recording");
    if (this.timer) this.tick();
  }

  // The router's `recording` event: paused since `paused_since`, or recording again
  // (`ended` says how). A pause that ran out (`[recording] pause_max_s`) is said once:
  // the agent did not end it, and the caller's words are recorded again.
  recordingChanged(event) {
    if (this.isOver) return;
    const was = this.pausedSince;
    this.paused(event.paused_since);
    if (was && !this.pausedSince && event.ended === "pause_max_s") this.announce(t("Recording resumed."));
  }

  // Should an event be missed (a reconnect's gap) the agent's next press learns the
  // state: a resume refused (409) means the recording is not paused now; a pause
  // refused as "already paused" means it is, since the time the message gives.
  async togglePause() {
    this.pauseError.textContent = "";
    const action = this.pausedSince ? "resume" : "pause";
    const answer = await this.desk.call("POST",
      `/api/v1/contacts/${this.contact.contact_id}/recording/${action}`);
    if (this.isOver) return;
    if (answer.ok) {
      this.paused(answer.body.paused ? answer.body.paused_since : null);
      this.announce(answer.body.paused ? t("Recording paused.") : t("Recording resumed."));
      return;
    }
    const message = problem(answer);
    this.pauseError.textContent = message;
    if (answer.status !== 409) return;
    if (action === "resume") this.paused(null);
    const already = /already paused \(by .* since (\d+)\)/.exec(message);
    if (already) this.paused(new Date(Number(already[1])).toISOString());
  }

  // One line for assistive technology, said once per change (the latest few kept).
  announce(text) {
    this.pauseNews.append(el("p", {}, text));
    while (this.pauseNews.children.length > 3) this.pauseNews.firstElementChild.remove();
  }

  // After a reconnect: the hold or the recording's pause may have changed while the
  // events were not heard.
  async refresh() {
    const answer = await this.desk.call("GET", `/api/v1/contacts/${this.contact.contact_id}`);
    if (!answer.ok || this.isOver) return;
    this.held(answer.body.on_hold_since);
    this.paused(answer.body.recording_paused_since);
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
    this.paused(null);
    this.pauseButton.hidden = true;
    this.status.textContent = t("The call has ended.");
    this.wrapUp.show();
  }
}
