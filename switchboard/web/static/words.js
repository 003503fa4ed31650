// Queues, wrap-up codes and a customer's language in words, one way for every page: a
// queue as the customer's page names it as a topic, a wrap-up code as a person reads
// it, never the raw key (`general`, `callback_needed`) on a page in any language.

import { N_, languageName, primary, t } from "./i18n.js";


// The shipped queues' words (config/default.toml), from the page catalogs.
const TOPICS = {
  booking: N_("Bookings and changes"), baggage: N_("Baggage"),
  emergency: N_("Emergency"), general: N_("Anything else"), senior: N_("Senior agents"),
};

// A queue as people read it: the operator's [chat.topics] text (`configured`, keyed by
// lower-case tags: router/desk.py) in the reader's language, the reader's own tag first
// (a region's text for that region), then their language alone, then the language as
// another region writes it; else the shipped queues' words from the page catalogs; else
// the operator's English; else the queue's name with spaces for underscores.
export function topicName(queue, configured, readerTag) {
  const texts = (configured || {})[queue] || {};
  const tag = String(readerTag || "").toLowerCase().replaceAll("_", "-");
  const language = primary(tag);
  const own = texts[tag] || texts[language]
    || Object.entries(texts).find(([key]) => primary(key) === language)?.[1];
  if (own) return own;
  if (TOPICS[queue]) return t(TOPICS[queue]);
  return texts.en || String(queue).replaceAll("_", " ");
}

// A customer's language, named the same wherever the desk shows it (offer, tab,
// conversation, 360°): by their own tag when known ("Chinese (Taiwan)": the script
// matters), else by the language.
export function customerLanguage(contact) {
  return languageName(contact.language_tag || contact.language);
}

// The shipped wrap-up codes' words ([[dispositions]] of config/default.toml).
const CODES = {
  new_booking: N_("New booking"), changed: N_("Changed"), cancelled: N_("Cancelled"),
  info_only: N_("Information only"), delayed_bag: N_("Delayed bag"), damaged_bag: N_("Damaged bag"),
  lost_bag: N_("Lost bag"), resolved: N_("Resolved"), callback_needed: N_("Callback needed"),
  complaint: N_("Complaint"),
};

// A wrap-up code in words: the shipped codes' from the page catalogs, any other as its
// key reads ("seat_upgrade" -> "Seat upgrade"; the configuration gives codes no labels).
export function codeName(code) {
  if (CODES[code]) return t(CODES[code]);
  const words = String(code || "").replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
