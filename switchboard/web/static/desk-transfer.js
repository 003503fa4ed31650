// Transfer of a chat or a call to a queue or a named colleague (who gets it first, then
// its queue after the ring time); a call also to an outside number. A call may be
// transferred warm: the agent consults the colleague first while the caller hears
// music, then hands the caller over or takes them back.

import { problem } from "./api.js";
import { el } from "./dom.js";
import { N_, t } from "./i18n.js";

// Agents' states in words, one name each for the desk's own state line and the
// colleagues of the transfer list (the directory gives the keys).
export const STATE_NAMES = {
  available: N_("Available"), not_ready: N_("Not ready"), wrap_up: N_("Wrap-up"), busy: N_("Busy"),
  reserved: N_("Ringing"), offline: N_("Offline"),
};
const stateName = (state) => t(STATE_NAMES[state] || state);

export class TransferControl {
  constructor(desk, contact, transferred, { warm = false } = {}) {
    Object.assign(this, { desk, contact, transferred });
    this.reads = 0;  // each read of the list numbered: an older answer is not shown
    const id = `transfer-${contact.contact_id}`;
    this.select = el("select", { id, class: "transfer-target", onfocus: () => this.load() },
      el("option", { value: "" }, t("Choose…")));
    this.error = el("p", { class: "error", role: "alert" });
    this.consult = warm ? el("input", { type: "checkbox", id: `consult-${contact.contact_id}`, class: "consult" }) : null;
    // Calls only: the number typed when "Outside number" is chosen.
    this.number = warm ? el("input", { type: "tel", class: "transfer-number", hidden: true,
      autocomplete: "off", placeholder: "+44 20 7946 0000", "aria-label": t("Outside number") }) : null;
    this.select.addEventListener("change", () => {
      if (this.number) this.number.hidden = this.select.value !== "number:";
    });
    this.consulting = el("div", { class: "row consulting", hidden: true },
      el("p", { class: "status" }),
      el("button", { type: "button", class: "hand-over", onclick: () => this.finish("finish") }, t("Hand over")),
      el("button", { type: "button", class: "secondary take-back", onclick: () => this.finish("return") }, t("Take back")));
    this.form = el("form", { class: "row transfer", novalidate: true,
      onsubmit: (event) => { event.preventDefault(); this.send(); } },
    el("label", { for: id }, t("Transfer to")), this.select, this.number,
    this.consult ? [this.consult, el("label", { for: this.consult.id }, t("Consult first"))] : null,
    el("button", { type: "submit", class: "secondary" }, t("Transfer")));
    this.root = el("div", { class: "transfer-control" }, this.form, this.consulting, this.error);
    this.load();
  }

  // The queues and colleagues, read again each time the list is opened (focused): a
  // colleague's state is the one they are in now, not the one when the chat opened. A
  // choice made already stays chosen while it is still there.
  async load() {
    const asked = ++this.reads;
    const answer = await this.desk.call("GET", "/api/v1/directory");
    if (!answer.ok || asked !== this.reads) return;
    const me = this.desk.agent.agent_id;
    const chosen = this.select.value;
    const queues = el("optgroup", { label: t("Queues") },
      ...answer.body.queues.map((queue) => el("option", { value: `queue:${queue}` }, this.desk.queueName(queue))));
    const agents = el("optgroup", { label: t("Colleagues") },
      ...answer.body.agents.filter((agent) => agent.agent_id !== me).map((agent) =>
        el("option", { value: `agent:${agent.agent_id}` },
          `${agent.agent_id} (${agent.region}, ${stateName(agent.state)})`)));
    const outside = this.number ? el("optgroup", { label: t("Outside") },
      el("option", { value: "number:" }, t("Outside number…"))) : null;
    this.select.replaceChildren(el("option", { value: "" }, t("Choose…")), queues, agents,
      ...(outside ? [outside] : []));
    if ([...this.select.options].some((option) => option.value === chosen)) this.select.value = chosen;
  }

  async send() {
    this.error.textContent = "";
    const [kind, chosen] = this.select.value.split(/:(.*)/s);
    // A number as people write it: spaces, dots, dashes and brackets are only layout.
    const name = kind === "number" ? this.number.value.replace(/[\s().-]/g, "") : chosen;
    if (!name) {
      this.error.textContent = kind === "number"
        ? t("Type the outside number first.") : t("Choose a queue or a colleague first.");
      return;
    }
    const warm = Boolean(this.consult && this.consult.checked);
    const target = { queue: { queue: name }, agent: { agent: name }, number: { number: name } }[kind];
    const answer = await this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/transfer`,
      { ...target, ...(warm ? { warm } : {}) });
    if (!answer.ok) { this.error.textContent = problem(answer); return; }
    if (warm) {
      this.form.hidden = true;
      this.consulting.hidden = false;
      this.consulting.querySelector(".status").textContent =
        t("You are talking to {target}; the caller hears music.", { target: name });
      return;
    }
    this.desk.notify("");
    this.transferred();
  }

  // A consulted transfer ends: "finish" hands the caller over, "return" takes them back.
  async finish(how) {
    this.error.textContent = "";
    const answer = await this.desk.call("POST", `/api/v1/contacts/${this.contact.contact_id}/transfer/${how}`);
    if (!answer.ok) { this.error.textContent = problem(answer); return; }
    this.consulting.hidden = true;
    this.form.hidden = false;
    if (how === "finish") { this.desk.notify(""); this.transferred(); }
  }
}
