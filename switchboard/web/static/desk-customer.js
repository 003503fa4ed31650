// The customer 360° panel: who the customer is and their contacts on every channel,
// newest first, with outcome, agent, wrap-up code, rating and note; a contact that came
// back within the repeat window is marked.

import { problem } from "./api.js";
import { $, el } from "./dom.js";
import { N_, languageName, number, shortDate, t } from "./i18n.js";

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
      el("dt", {}, t("Language")), el("dd", {}, languageName(customer.language)),
      // The region this contact was placed in (the API's `home_region`), not where the
      // customer lives: the contact's region.
      el("dt", {}, t("Region of this contact")), el("dd", { class: "contact-region" }, customer.home_region)),
    el("h3", {}, t("Contacts ({count})", { count: number(contacts.length) })),
    el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": t("Contacts") }, el("table", { class: "history" },
      el("thead", {}, el("tr", {}, ...[t("Date"), t("Channel"), t("Queue"), t("Outcome"), t("Agent"),
        t("Code"), t("Rating"), t("Note")].map((name) => el("th", { scope: "col" }, name)))),
      el("tbody", {}, ...contacts.map((past) => row(past, contact.contact_id))))));
}

function row(past, current) {
  const times = past.timestamps || {};
  const when = times.arrived_at || times.queued_at;
  const wrap = past.wrap_up || {};
  return el("tr", { "data-contact": past.contact_id, "data-channel": past.channel,
    class: past.contact_id === current ? "current" : "" },
  el("td", {}, when ? shortDate(when) : "–",
    past.repeat ? [" ", el("span", { class: "repeat" }, t("Repeat"))] : null),
  el("td", {}, t(past.channel)), el("td", {}, past.queue),
  el("td", {}, t(past.outcome || past.state)), el("td", {}, past.agent_id || "–"),
  el("td", { class: "code" }, wrap.code || "–"),
  el("td", { class: "rating" }, past.rating ? `${number(past.rating)}/${number(5)}` : "–"),
  el("td", { class: "note" }, wrap.note || ""));
}
