// The wrap-up of a finished contact: a code from its queue's list (required where the
// queue says so; the API refuses to make the agent available before) and a note.

import { problem } from "./api.js";
import { el, options } from "./dom.js";
import { t } from "./i18n.js";
import { codeName } from "./words.js";

export class WrapUpForm {
  constructor(desk, contact, saved) {
    Object.assign(this, { desk, contact, saved });
    const queue = (desk.config.queues || {})[contact.queue] || { codes: [], code_required: false };
    this.required = queue.code_required;
    const codeId = `code-${contact.contact_id}`;
    const noteId = `note-${contact.contact_id}`;
    this.code = el("select", { id: codeId, class: "wrap-up-code", required: this.required });
    options(this.code, [["", this.required ? t("Choose a code") : t("No code")], ...queue.codes.map((c) => [c, codeName(c)])]);
    this.note = el("textarea", { id: noteId, class: "wrap-up-note", rows: 2, maxlength: 2000 });
    this.error = el("p", { class: "error", role: "alert", id: `wrap-up-error-${contact.contact_id}` });
    this.code.setAttribute("aria-describedby", this.error.id);
    this.root = el("form", { class: "wrap-up", hidden: true, novalidate: true,
      onsubmit: (event) => { event.preventDefault(); this.send(); } },
    el("h3", {}, t("Wrap-up")),
    queue.codes.length ? [el("label", { for: codeId }, this.required ? t("Code (required)") : t("Code")), this.code] : null,
    el("label", { for: noteId }, t("Note")), this.note, this.error,
    el("div", { class: "row" }, el("button", { type: "submit", class: "save-wrap-up" }, t("Save wrap-up"))));
  }

  // Shown when the contact ends; the focus moves here only when `focus` (what had it
  // went away), never from a reply being written.
  show(focus = true) {
    this.root.hidden = false;
    if (focus) (this.root.contains(this.code) ? this.code : this.note).focus();
  }

  async send() {
    this.error.textContent = "";
    this.code.removeAttribute("aria-invalid");
    if (this.required && !this.code.value) {
      this.code.setAttribute("aria-invalid", "true");
      this.code.focus();
      this.error.textContent = t("Please choose a code.");
      return;
    }
    const answer = await this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/wrapup`,
      { code: this.code.value, note: this.note.value });
    if (!answer.ok) { this.error.textContent = problem(answer); return; }
    this.saved();  // the conversation leaves: the state line is read again
  }
}
