// The customer 360° panel: who the customer is and their contacts on every channel,
// newest first, with outcome, agent, wrap-up code, rating and note; a contact that came
// back within the repeat window is marked.

import { problem } from "./api.js";
import { $, el } from "./dom.js";
import { N_, number, primary, shortDate, t } from "./i18n.js";
import { codeName, customerLanguage } from "./words.js";

// Outcomes and channels as the API names them.
N_("completed"); N_("abandoned"); N_("failed"); N_("queued"); N_("offered"); N_("connected");
N_("voice"); N_("chat"); N_("standard");

let shown = null;

export async function showCustomer(desk, contact) {
  shown = contact && contact.contact_id;
  const body = $("customer-body");
  if (!contact) {
    body.replaceChildren(el("p", { class: "dim" }, t("Open a conversation to see its customer.")));
    return;
  }
  const answer = await desk.call("GET", `/api/v1/contacts/${contact.contact_id}/customer`);
  if (shown !== contact.contact_id) return;  // another tab was chosen meanwhile
  if (!answer.ok) { body.replaceChildren(el("p", { class: "error" }, problem(answer))); return; }
  const { customer, contacts } = answer.body;
  const anonymous = customer.id.startsWith("anon-");
  body.replaceChildren(
    el("dl", {},
      el("dt", {}, t("Customer ID")), el("dd", { class: "customer-id" },
        anonymous ? t("anonymous (not signed in)") : customer.id),
      el("dt", {}, t("Verified")), el("dd", {}, customer.verified ? t("yes") : t("no")),
      el("dt", {}, t("Tier")), el("dd", {}, t(customer.tier)),
      el("dt", {}, t("Language")), el("dd", { class: "language" }, customerLanguage(
        primary(customer.language) === primary(contact.language) ? contact : { language: customer.language })),
      // The region this contact was placed in (the API's `home_region`), not where the
      // customer lives: the contact's region.
      el("dt", {}, t("Region of this contact")), el("dd", { class: "contact-region" }, customer.home_region)),
    el("h3", {}, t("Contacts ({count})", { count: number(contacts.length) })),
    // A table, stacked one contact below the other in a narrow panel (agent.html): the
    // roles keep it a table to assistive technology whatever its layout.
    el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": t("Contacts") },
      el("table", { class: "history", role: "table" },
        el("thead", { role: "rowgroup" }, el("tr", { role: "row" }, ...COLUMNS.map((name) =>
          el("th", { scope: "col", role: "columnheader" }, t(name))))),
        el("tbody", { role: "rowgroup" }, ...contacts.map((past) => row(desk, past, contact.contact_id))))));
}

// The table's columns; each cell also carries its column's name (data-label), shown
// beside it when the rows are stacked.
const COLUMNS = [N_("Date"), N_("Channel"), N_("Queue"), N_("Outcome"), N_("Agent"), N_("Code"),
  N_("Rating"), N_("Note")];

function row(desk, past, current) {
  const times = past.timestamps || {};
  const when = times.arrived_at || times.queued_at;
  const wrap = past.wrap_up || {};
  const cells = [
    [{ class: "date" }, el("span", {}, el("span", { class: "when" }, when ? shortDate(when) : "–"),
      past.repeat ? [" ", el("span", { class: "repeat" }, t("Repeat"))] : null)],
    [{}, t(past.channel)],
    [{ class: "queue" }, desk.queueName(past.queue)],
    [{}, t(past.outcome || past.state)],
    [{}, past.agent_id || "–"],
    [{ class: "code" }, wrap.code ? codeName(wrap.code) : "–"],
    [{ class: "rating" }, past.rating ? `${number(past.rating)}/${number(5)}` : "–"],
    [{ class: "note" }, wrap.note || ""],
  ];
  return el("tr", { role: "row", "data-contact": past.contact_id, "data-channel": past.channel,
    class: past.contact_id === current ? "current" : "" },
  ...cells.map(([attrs, ...content], i) =>
    el("td", { ...attrs, role: "cell", "data-label": t(COLUMNS[i]) }, ...content)));
}
