// The customer chat window: choose a topic, write, wait (place in line, estimated
// wait), talk with the agent in one's own language, rate. A reload or a network drop
// picks up the same chat (the token is kept in localStorage, or by the site's page:
// chat-saved.js). Bad input is explained
// on the page and the typed text stays where it was. The live socket stays open after
// the chat ends, as long as the page is: a case solved later asks here whether the
// problem is solved (`case_followup`), and the answer closes or reopens the case.

import { problem, request, socketUrl } from "./api.js";
import { forgetChat, saveChat, savedChat } from "./chat-saved.js";
import { nameWindow } from "./chat-embedded.js";
import { ChatView } from "./chat-view.js";
import { $, el, options, setText } from "./dom.js";
import { loadText, number, primary, t, wantedLanguage } from "./i18n.js";
import { checkMessage } from "./message-text.js";
import { MessageSender } from "./sending.js";
import { LiveSocket } from "./socket.js";
import { topicName } from "./words.js";

const TERMINAL = ["completed", "abandoned", "failed"];

// site, identity, lang and queue from the query string; identity also from the
// fragment (#identity=...), which never reaches a server log.
const query = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));
const site = query.get("site") || "";
const identity = fragment.get("identity") || query.get("identity") || "";

const chat = { id: null, token: null, language: "en", contact: null, socket: null, view: null };

// The customer's language with its region when one is known: ?lang= (a site's
// data-lang="es-MX"), else the browser's own tag for the language negotiated from its
// Accept-Language (which names the language alone: pt for a pt-BR browser).
function regionalTag() {
  const browser = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  if (/[-_]/.test(chat.language)) return chat.language;
  return browser.find((tag) => tag && primary(tag) === primary(chat.language)) || chat.language;
}
// The tag a chat starts with: the customer's own with its region (pt-BR, es-419, zh-TW),
// when it is a plain language[-Script][-REGION] the API reads; else the language alone.
const PLAIN_TAG = /^[a-z]{2,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?$/i;
const startTag = () => (PLAIN_TAG.test(regionalTag()) ? regionalTag() : chat.language);
let lastTyping = 0;

async function main() {
  // Asked at once: a site's page that keeps the chat answers while the options load. The
  // start form stays hidden until the answer (or its bounded wait) is in.
  const kept = savedChat(site);
  const answer = await chatOptions();
  const choices = answer.ok ? answer.body : { queues: [] };
  if (answer.ok || !chat.speaking) await speak(choices.language);
  if (!answer.ok) {
    setText($("status"), optionsProblem(answer));
    return;
  }
  const topics = choices.topics || {};
  options($("queue"), [["", t("Choose a topic")], ...choices.queues.map((q) => [q, topicName(q, topics, regionalTag())])],
    query.get("queue") || "");
  chat.queues = choices.queues;
  const saved = await kept;
  if (saved && await resume(saved)) return;
  forgetChat(site);
  $("start").hidden = false;
}

// The page's language: the one asked for (?lang=), else the one negotiated from the
// browser's Accept-Language; without the options (an unknown site, the node busy, no
// network) the browser's own first language: the page still speaks the customer's.
async function speak(negotiated) {
  const asked = query.get("lang");
  chat.speaking = true;
  chat.language = asked || negotiated || browserLanguage();
  if (!await loadText(chat.language) && asked) {
    // Not a tag the API takes (?lang=x-klingon, a site's data-lang="tlh"): the chat
    // would be refused; the language negotiated from the browser's instead.
    chat.language = negotiated || browserLanguage();
    console.warn(`switchboard chat: ?lang=${asked} is no language the API knows; the chat is in ${chat.language}`);
    await loadText(chat.language);
  }
  nameWindow();
}

// The browser's first language (what its Accept-Language negotiates, near enough).
function browserLanguage() {
  return (navigator.languages && navigator.languages[0]) || navigator.language || "en";
}

// Seconds between the tries of the options after a passing failure (a 5xx, a 429, no
// network): a few, ever further apart and each a little shifted at random (the pages
// that failed together do not all ask again at once), then the customer is told.
const RETRY_S = [1, 2, 4, 8];
const passing = (answer) => answer.status === 0 || answer.status === 429 || answer.status >= 500;

// GET /api/v1/chat/options, tried again after a passing failure; its last answer.
async function chatOptions() {
  const path = `/api/v1/chat/options${site ? `?site=${encodeURIComponent(site)}` : ""}`;
  let answer = await request("GET", path);
  for (const delay of RETRY_S) {
    if (answer.ok || !passing(answer)) break;
    if (!chat.speaking) await speak(null);  // the customer's language while it waits
    setText($("status"), t("Chat is not available at the moment. Trying again…"));
    await new Promise((done) => { setTimeout(done, delay * 1000 * (0.8 + 0.4 * Math.random())); });
    answer = await request("GET", path);
  }
  if (answer.ok) setText($("status"), "");
  return answer;
}

// Why there is no chat here, in the page's language (the API's words to the console).
function optionsProblem(answer) {
  const unknownSite = answer.status === 400 && answer.body && answer.body.field === "query.site";
  if (!unknownSite && !passing(answer)) return forCustomer(answer);
  console.warn("switchboard chat: no chat options", answer.status, answer.body);
  return unknownSite
    ? t("Sorry, chat is not available on this site.")
    : t("Chat is not available at the moment. Please try again later.");
}

// The chat kept in this browser, if it is still going or ended and awaits its rating
// (the chat is forgotten once rated: from then on only this open page still hears of it).
async function resume(saved) {
  const answer = await request("GET", `/api/v1/contacts/${saved.contact_id}`, { customerToken: saved.customer_token });
  if (!answer.ok) return false;
  const contact = answer.body;
  const answered = contact.timestamps && contact.timestamps.answered_at;
  if (TERMINAL.includes(contact.state) && !(contact.state === "completed" && answered)) return false;
  Object.assign(chat, { id: saved.contact_id, token: saved.customer_token, language: saved.language || chat.language });
  openConversation(contact);
  return true;
}

function fail(where, text) {
  $(where).textContent = text;
}

// A field in error says so (aria-invalid; its error is already its description) and
// takes the focus.
function invalid(field, text) {
  $(field).setAttribute("aria-invalid", "true");
  $(field).focus();
  fail("start-error", text);
}

$("start").addEventListener("submit", async (event) => {
  event.preventDefault();
  fail("start-error", "");
  for (const field of ["queue", "first-message"]) $(field).removeAttribute("aria-invalid");
  const queue = $("queue").value;
  const text = $("first-message").value;
  if (!chat.queues.includes(queue)) return invalid("queue", t("Please choose a topic from the list."));
  const wrong = checkMessage(text);
  if (wrong) return invalid("first-message", wrong);
  $("start-chat").disabled = true;
  const body = { channel: "chat", queue, language: startTag() };
  if (site) body.site = site;
  if (identity) body.identity = identity;
  const answer = await request("POST", "/api/v1/contacts", { body });
  $("start-chat").disabled = false;
  if (!answer.ok) return fail("start-error", startProblem(answer));
  Object.assign(chat, { id: answer.body.contact_id, token: answer.body.customer_token });
  saveChat(site, { contact_id: chat.id, customer_token: chat.token, language: chat.language });
  openConversation(answer.body);
  $("message").value = text;
  await send();
  $("first-message").value = "";
});

function startProblem(answer) {
  const field = answer.body && answer.body.field;
  if (answer.status === 400 && field === "$.queue") return t("Please choose a topic from the list.");
  // A bad signature or a passed expiry ($.identity), or a claim the rules refuse
  // ($.identity.sub, .region, .exp): trying again cannot help, signing in again may.
  if (answer.status === 400 && typeof field === "string" && /^\$\.identity(\.|$)/.test(field)) {
    return t("We could not confirm who you are. Please sign in again on the site, then start the chat.");
  }
  return forCustomer(answer, t("Sorry, the chat could not be started. Please try again in a moment."));
}

// What went wrong, in the page's language: the API's own message (a developer's, in
// English: "$.language: expected …") goes to the console, never on the page.
function forCustomer(answer, text) {
  if (answer.status === 0 || answer.status === 429) return problem(answer);
  console.warn("switchboard chat: the API answered", answer.status, answer.body);
  return text || t("Something went wrong ({status}).", { status: answer.status });
}

function openConversation(contact) {
  chat.contact = contact;
  // Messages are translated into the contact's language (`es` for a page in es-MX), the
  // agent's and the center's notices alike.
  chat.view = new ChatView(contact.language || primary(chat.language));
  $("start").hidden = true;
  $("conversation").hidden = false;
  showState(contact);
  // Also for a chat that has ended: the follow-up of its case comes on this socket.
  chat.socket = new LiveSocket(
    socketUrl(`/api/v1/contacts/${chat.id}/events`, { customer_token: chat.token }), {
      onEvent,
      onOpen: refresh,
      onState: (state) => { if (state === "reconnecting") setText($("status"), t("Connection lost. Reconnecting…")); },
    });
  if (TERMINAL.includes(contact.state)) { refresh(); ended(contact); return; }
  $("message").focus();
}

function showState(contact) {
  if (contact.state === "connected") chat.view.connected(contact.agent_id);
  else if (!TERMINAL.includes(contact.state)) chat.view.stillWaiting();
}

// After (re)connecting: the contact as it is now and every message, merged by id. The
// contact read is older than an event that changed it meanwhile (the agent joined while
// it was read): then it is read again rather than shown.
let contactChanges = 0;
async function refresh() {
  const auth = { customerToken: chat.token };
  const changes = contactChanges;
  const [contact, messages] = await Promise.all([
    request("GET", `/api/v1/contacts/${chat.id}`, auth),
    request("GET", `/api/v1/contacts/${chat.id}/messages`, auth),
  ]);
  if (messages.ok) {
    for (const message of messages.body.messages) chat.view.show(message);
    // How far the agent has read, kept by the server (a reload shows "Read" again).
    const read = messages.body.read || {};
    if (read.agent) chat.view.read(read.agent);
  }
  if (contact.ok && changes !== contactChanges) { refresh(); return; }
  if (contact.ok) {
    chat.contact = contact.body;
    showJoined(contact.body, messages.ok ? messages.body.messages : []);
    if (TERMINAL.includes(contact.body.state)) ended(contact.body);
    else showState(contact.body);
  }
  acknowledge();
}

// "{agent} joined the chat.", once for each agent who takes it: from their
// contact_connected, or after a reload from the contact, placed where they joined: when
// the chat was answered, after the messages of an agent who had it before (a transfer).
function showJoined(contact, messages) {
  const agent = contact.agent_id;
  const answered = contact.timestamps && contact.timestamps.answered_at;
  if (!agent || !answered || chat.joined === agent) return;
  if (contact.state !== "connected" && !TERMINAL.includes(contact.state)) return;
  const before = messages.filter((m) => !["customer", "center", agent].includes(m.sender));
  const at = Math.max(Date.parse(answered), ...before.map((m) => m.at_ms + 1));
  chat.joined = agent;
  chat.view.notice(t("{agent} joined the chat.", { agent }), at);
}

function onEvent(event) {
  if (["contact_connected", "contact_requeued", "contact_closed"].includes(event.type)) contactChanges += 1;
  switch (event.type) {
    case "message": chat.view.show(event); acknowledge(); break;
    case "position": chat.view.waiting(event.position, event.ewt_s); break;
    case "contact_connected":
      chat.contact.agent_id = event.agent_id;
      chat.view.connected(event.agent_id);
      if (chat.joined !== event.agent_id) chat.view.notice(t("{agent} joined the chat.", { agent: event.agent_id }));
      chat.joined = event.agent_id;
      break;
    case "contact_requeued":  // its agent left: another will take the chat
      chat.contact.agent_id = null;
      chat.joined = null;
      chat.view.waiting(null);
      break;
    case "typing": if (event.by !== "customer") chat.view.typing(event.by); break;
    case "read": if (event.by !== "customer" && event.message_id) chat.view.read(event.message_id); break;
    case "contact_closed": refresh(); break;
    case "case_followup": askFollowUp(); break;
    default: break;
  }
}

// Tell the agent the customer has seen their latest message.
function acknowledge() {
  const last = chat.view && chat.view.lastFromAgent();
  if (last && last !== chat.acknowledged && document.visibilityState === "visible" && chat.socket) {
    chat.acknowledged = last;
    chat.socket.send({ type: "read", message_id: last });
  }
}
document.addEventListener("visibilitychange", acknowledge);

// The message box: what it holds is sent one message at a time, and only what was sent
// leaves it (what the customer typed meanwhile stays); a retry of the same text goes
// with the same id.
const sender = new MessageSender($("message"), {
  post: (text, id) => request("POST", `/api/v1/contacts/${chat.id}/messages`,
    { body: { text, client_message_id: id }, customerToken: chat.token }),
  delivered: (message) => chat.view.show(message),
  problem: (answer) => sendProblem(answer),
  report: (text) => fail("send-error", text),
  busy: (sending) => { $("send").disabled = sending; },
});
const send = () => sender.send();

// Why a message was not sent, in the page's language (the API's words to the console).
function sendProblem(answer) {
  if (answer.status === 409) return t("The chat has ended; your message was not sent.");
  if (answer.status === 400) return forCustomer(answer, t("Your message could not be sent. Please check it and try again."));
  return forCustomer(answer);
}

$("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
});
$("message").addEventListener("input", () => {
  if (Date.now() - lastTyping > 2000 && chat.socket) {
    lastTyping = Date.now();
    chat.socket.send({ type: "typing" });
  }
});

$("leave").addEventListener("click", async () => {
  const answer = await request("POST", `/api/v1/contacts/${chat.id}/abandon`, { customerToken: chat.token });
  if (!answer.ok && answer.status !== 409) return fail("send-error", forCustomer(answer));
  refresh();
});

// The chat is over. The socket stays open (and the token in memory) while the page is:
// a case solved after the chat still reaches the customer here.
function ended(contact) {
  chat.view.ended();
  $("composer").hidden = true;
  const answered = contact.timestamps && contact.timestamps.answered_at;
  if (contact.state === "completed" && answered) showRating();
  else { forgetChat(site); $("new-chat").hidden = false; takeFocus($("new-chat")); }
}

// The rating's scores. Their numbers in the text are the page's digits, as every number
// the page writes (number()): "١ من ٥" on an Arabic page, never "1 من 5".
const SCORES = [1, 2, 3, 4, 5];

function showRating() {
  if (!$("rating").hidden) return;
  const total = number(SCORES.length);
  $("stars").replaceChildren(...SCORES.map((score) => el("label", {},
    el("input", { type: "radio", name: "score", value: score, class: "visually-hidden" }),
    el("span", { "aria-hidden": "true" }, "★".repeat(score)),
    el("span", { class: "visually-hidden" }, t("{score} of {total}", { score: number(score), total })))));
  $("rating").hidden = false;
  takeFocus($("stars").querySelector("input"));
}

// The composer has gone: the focus moves on to what the page asks now (it would fall to
// <body>), unless the customer was elsewhere on the page.
function takeFocus(target) {
  const active = document.activeElement;
  if (!active || active === document.body || $("composer").contains(active)) target.focus();
}

$("rating").addEventListener("submit", async (event) => {
  event.preventDefault();
  const chosen = $("rating").querySelector("input[name=score]:checked");
  if (!chosen) {
    const [lowest, highest] = [SCORES[0], SCORES[SCORES.length - 1]].map((n) => number(n));
    return fail("rating-error", t("Please choose from {lowest} to {highest}.", { lowest, highest }));
  }
  const answer = await request("POST", `/api/v1/contacts/${chat.id}/rating`,
    { body: { score: Number(chosen.value) }, customerToken: chat.token });
  if (!answer.ok && answer.status !== 409) return fail("rating-error", forCustomer(answer));
  forgetChat(site);
  const focused = $("rating").contains(document.activeElement);
  $("rating").hidden = true;
  $("thanks").hidden = false;
  $("new-chat").hidden = false;
  // The form (and the focus in it) has gone: the thanks is read where the focus lands.
  if (focused || document.activeElement === document.body) $("thanks").focus();
});

// The case this chat belongs to was solved: is the problem solved for the customer?
function askFollowUp() {
  chat.view.notice(t("Your request has been marked as solved."));
  fail("followup-error", "");
  $("followup-done").textContent = "";
  for (const button of $("followup").querySelectorAll("button")) button.disabled = false;
  $("followup").hidden = false;
}

async function answerFollowUp(solved) {
  fail("followup-error", "");
  const buttons = [...$("followup").querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  const answer = await request("POST", `/api/v1/contacts/${chat.id}/case/confirm`,
    { body: { solved }, customerToken: chat.token });
  if (!answer.ok && answer.status !== 409) {
    for (const button of buttons) button.disabled = false;
    return fail("followup-error", forCustomer(answer));
  }
  $("followup").hidden = true;
  $("followup-done").textContent = answer.status === 409
    ? t("This question has already been answered. Thank you.")
    : answer.body.status === "closed"
      ? t("Thank you. We are glad it is solved; your request is closed.")
      : t("Thank you for telling us. Your request is open again and we will get back to you.");
}

$("followup-yes").addEventListener("click", () => answerFollowUp(true));
$("followup-no").addEventListener("click", () => answerFollowUp(false));

$("new-chat").addEventListener("click", async () => {
  await forgetChat(site);  // forgotten before the page asks for it again
  location.reload();
});

main();
