// The agent desktop: sign in (channels, chat capacity, softphone), state with a reason,
// the wrap-up countdown, log out; the agent's events (offers, messages, closures) are
// handed to the parts that show them. The token survives a reload (sessionStorage); what
// the agent holds and owes comes from the server (GET /api/v1/agents/{id}/contacts), so a
// new tab or browser shows it too.

import { problem, request, socketUrl } from "./api.js";
import { Conversations } from "./desk-conversations.js";
import { Offers } from "./desk-offers.js";
import { hideSoftphone, showSoftphone } from "./desk-softphone.js";
import { STATE_NAMES } from "./desk-transfer.js";
import { $, options, setText } from "./dom.js";
import { N_, duration, loadText, number, primary, t, wantedLanguage } from "./i18n.js";
import { LiveSocket } from "./socket.js";
import { topicName } from "./words.js";

const KEY = "switchboard-desk";
const SYNC_MS = 10_000;
// The shipped not-ready reasons ([desk] not_ready_reasons), the one signing in gives and
// the one RONA gives (router/agents.py SYSTEM_REASONS; desk-offers.js marks the others).
N_("break"); N_("lunch"); N_("meeting"); N_("training"); N_("after-call work");
N_("logged in"); N_("no answer");
// Why a blind transfer to an outside number failed (the transfer_failed event's reason).
const TRANSFER_FAILURES = {
  busy: N_("the line was busy"), declined: N_("the call was declined"),
  unreachable: N_("the number could not be reached"), no_answer: N_("nobody answered"),
};

const desk = {
  token: null, agent: null, config: null, socket: null, wrapUpUntil: 0,
  call: (method, path, body) => request(method, path, { body, token: desk.token }),
  notify: (text) => { $("notice").textContent = text; },
  refreshAgent: () => refreshAgent(),
  topics: {},  // the operator's [chat.topics] texts, as the customer's page reads them
  // A queue in words, as the customer's page names it as a topic ("Anything else").
  queueName: (queue) => topicName(queue, desk.topics, readerTag()),
};
const offers = new Offers(desk);
const conversations = new Conversations(desk);
desk.open = (contact) => conversations.open(contact);
desk.focusConversation = (contactId) => conversations.focus(contactId);
// The caller's number as the offer showed it, else (after a reload) as the contact
// gives it: both masked unless the center shows numbers.
desk.caller = (contact) => (offers.seen.get(contact.contact_id) || {}).customer_id
  || (contact.customer && contact.customer.id) || "";

async function main() {
  await loadText(wantedLanguage(), "desk");
  const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
  if (saved && saved.token) {
    desk.token = saved.token;
    const answer = await desk.call("GET", `/api/v1/agents/${encodeURIComponent(saved.agent_id)}`);
    if (answer.ok) return start(answer.body);
    sessionStorage.removeItem(KEY);
  }
  $("sign-in-page").hidden = false;
}

// The sign-in's fields; one in error says so (aria-invalid, described by the error) and
// the first of them takes the focus.
const SIGN_IN_FIELDS = ["agent-id", "password", "sip-uri", "chat-capacity"];
function signInError(text, fields) {
  $("sign-in-error").textContent = text;
  for (const id of fields) $(id).setAttribute("aria-invalid", "true");
  if (fields.length) $(fields[0]).focus();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  for (const id of SIGN_IN_FIELDS) $(id).removeAttribute("aria-invalid");
  const capacity = Number($("chat-capacity").value);
  if (!Number.isInteger(capacity) || capacity < 0 || capacity > 10) {
    return signInError(t("Chats at once: a whole number from 0 to 10."), ["chat-capacity"]);
  }
  const body = {
    agent_id: $("agent-id").value.trim(),
    password: $("password").value,
    channels: { chat: capacity, voice: $("take-calls").checked ? 1 : 0 },
  };
  const sip = $("sip-uri").value.trim();
  if (sip) body.sip_uri = sip;
  if (!body.agent_id || !body.password) {
    const missing = [...(body.agent_id ? [] : ["agent-id"]), ...(body.password ? [] : ["password"])];
    return signInError(t("Please give your agent ID and password."), missing);
  }
  $("sign-in").disabled = true;
  const answer = await request("POST", "/api/v1/agents/login", { body });
  $("sign-in").disabled = false;
  if (!answer.ok) {
    const field = answer.body.field;
    if (field === "$.sip_uri") {
      return signInError(t("The SIP URI looks wrong: it starts with sip: like sip:ana@192.0.2.10."), ["sip-uri"]);
    }
    if (answer.status === 401) return signInError(t("Wrong agent ID or password."), ["password", "agent-id"]);
    return signInError(problem(answer), []);
  }
  if (answer.body.role !== "agent" || !answer.body.agent) {
    $("sign-in-error").textContent = t("The desktop is for agents.");
    return;
  }
  desk.token = answer.body.token;
  $("password").value = "";
  start(answer.body.agent);
});

async function start(agent) {
  desk.agent = agent;
  remember();
  $("sign-in-page").hidden = true;
  $("workspace").hidden = false;
  $("who").textContent = agent.agent_id;
  const [config, topics] = await Promise.all([
    desk.call("GET", "/api/v1/desk"), request("GET", "/api/v1/chat/options")]);
  desk.config = config.ok ? config.body : { not_ready_reasons: [], queues: {}, sip_accounts: true };
  desk.topics = topics.ok ? topics.body.topics || {} : {};
  options($("not-ready-reason"), desk.config.not_ready_reasons.map((r) => [r, t(r)]));
  showState(agent);
  showSoftphone(desk);
  desk.socket = new LiveSocket(
    socketUrl(`/api/v1/agents/${encodeURIComponent(agent.agent_id)}/events`, { token: desk.token }), {
      onEvent,
      onOpen: () => { refreshAgent(); offers.refresh(); conversations.refreshAll(); conversations.sync(); },
      onState: (state) => {
        $("connection").textContent = state === "open" ? "" : t("Connection lost. Reconnecting…");
      },
      onEnd: () => signedOut(t("Your session has ended. Please sign in again.")),
    });
  conversations.sync();
}

// The desk's reader for the operator's topic texts: the tag asked for or the browser's
// (ar-EG) when the page is in its language, else the page's language.
function readerTag() {
  const page = document.documentElement.lang || "en";
  return primary(wantedLanguage()) === primary(page) ? wantedLanguage() : page;
}

// The session, kept for a reload (the conversations are read again from the server).
function remember() {
  sessionStorage.setItem(KEY, JSON.stringify({ token: desk.token, agent_id: desk.agent.agent_id }));
}
desk.remember = () => remember();

function onEvent(event) {
  switch (event.type) {
    case "offer": offers.add(event); break;
    case "offer_revoked": offers.revoke(event); break;
    case "contact_connected": offers.remove(event.contact_id); conversations.connected(event); break;
    case "message": conversations.message(event); break;
    case "typing": conversations.typing(event); break;
    case "read": conversations.read(event); break;
    case "hold": conversations.hold(event); break;
    case "recording": conversations.recording(event); break;
    case "contact_flagged": conversations.flagged(event); break;
    case "contact_closed": offers.remove(event.contact_id); conversations.closed(event); break;
    // A chat of theirs went back to its queue (they were set offline), or a callback they
    // took waits for its next attempt (the customer did not pick up): no longer here.
    case "contact_requeued": offers.remove(event.contact_id); conversations.close(event.contact_id); requeued(event); break;
    case "transfer_failed": conversations.close(event.contact_id); transferFailed(event); break;
    case "state": break;
    default: return;
  }
  if (["offer", "offer_revoked", "contact_connected", "contact_closed", "contact_requeued", "state"]
    .includes(event.type)) {
    refreshAgent();
    conversations.sync();
  }
}

// A blind transfer of theirs to an outside number was not taken: the call has left
// them (from the softphone, its panel was still up), so say where the caller is now.
function requeued(event) {
  if (event.reason === "callback_unanswered") {
    desk.notify(t("The customer did not pick up the callback: it will be tried again later."));
  }
}

function transferFailed(event) {
  const reason = TRANSFER_FAILURES[event.reason];
  desk.notify(t("Transfer to {to} failed ({reason}): the caller is back in queue {queue}.", {
    to: dialled(event.to || ""), reason: reason ? t(reason) : event.reason || "",
    queue: event.queue ? desk.queueName(event.queue) : "",
  }));
}

// A SIP URI as a person reads it: the number alone (sip:+4930123456@trunk;user=phone),
// else user@host (sip:bob@example.com).
function dialled(uri) {
  const address = uri.replace(/^(sips?|tel):/i, "").split(/[;?>]/)[0];
  const [user, host] = address.split("@");
  return /^\+?[\d*#]+$/.test(user) || !host ? user : `${user}@${host.split(":")[0]}`;
}

async function refreshAgent() {
  const asked = ++stateReads;
  const answer = await desk.call("GET", `/api/v1/agents/${encodeURIComponent(desk.agent.agent_id)}`);
  if (answer.ok && asked === stateReads) { desk.agent = answer.body; showState(answer.body); }
}

// Each read or change of the agent's state is numbered: an answer older than one asked
// after it (a slow "available" overtaken by the "ringing" an offer brought) is not shown.
let stateReads = 0;

// The state the agent reads: their own "not ready" (a break, a supervisor's) comes
// first even while they still hold chats or calls (the routing state says busy then:
// what they hold is said beside it).
function shownState(agent) {
  const holding = agent.state === "busy" || agent.state === "reserved";
  return holding && agent.presence === "not_ready" ? "not_ready" : agent.state;
}

function showState(agent) {
  const state = shownState(agent);
  $("state").dataset.state = state;
  setText($("state"), t(STATE_NAMES[state] || state));
  desk.wrapUpUntil = agent.wrap_up_until ? Date.parse(agent.wrap_up_until) : 0;
  const reason = state === "not_ready" && agent.reason ? `(${t(agent.reason)})` : "";
  const load = agent.load || {};
  const held = agent.state === "busy" || agent.state === "reserved"
    ? t("chats: {chats}, calls: {calls}", { chats: number(load.chat || 0), calls: number(load.voice || 0) }) : "";
  // The status line is read out at each change: written only when it changes, the state
  // and its detail apart (a pause for the ear), the wrap-up's countdown beside it.
  const detail = [reason, held].filter(Boolean).join(" ");
  setText($("state-detail"), detail);
  $("state-sep").hidden = !detail;
  if (state !== "wrap_up") setText($("wrap-up-left"), "");
  tick();
}

// The wrap-up countdown, once a second.
function tick() {
  if ($("state").dataset.state !== "wrap_up" || !desk.wrapUpUntil) return;
  const left = (desk.wrapUpUntil - Date.now()) / 1000;
  if (left <= 0) { desk.wrapUpUntil = 0; refreshAgent(); return; }
  setText($("wrap-up-left"), t("{time} left", { time: duration(left) }));
}
const ticking = setInterval(tick, 1000);
// A chat another session of the agent transferred away sends this desk no event: read
// what the agent holds again now and then.
const syncing = setInterval(() => { if (desk.token && desk.agent) conversations.sync(); }, SYNC_MS);

// A desk left for another page may wait in the browser's back/forward cache: its socket's
// session checks would keep the agent's session alive (and them Available) with nobody
// at it. Leaving closes the socket (not a sign-out: the session may still be resumed) and
// stops the timers; shown again from the cache, the desk loads afresh (at work again, or
// asked to sign in when the session ran out meanwhile).
window.addEventListener("pagehide", () => {
  clearInterval(ticking);
  clearInterval(syncing);
  if (desk.socket) { desk.socket.onEnd = () => {}; desk.socket.close(); }
});
window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

async function setState(state, reason) {
  desk.notify("");
  const asked = ++stateReads;
  const answer = await desk.call("PUT", `/api/v1/agents/${encodeURIComponent(desk.agent.agent_id)}/state`,
    { state, reason: reason || "" });
  if (!answer.ok) {
    // A code owed (409): said in the page's words; the API's own message, a developer's
    // in English with the contact's id, goes to the console only.
    if (answer.status === 409) console.warn("switchboard desk: state refused", answer.body);
    desk.notify(answer.status === 409 ? t("Finish the wrap-up first: choose a code and save the wrap-up.")
      : problem(answer));
    return;
  }
  if (asked !== stateReads) return;
  desk.agent = answer.body;
  showState(answer.body);
}

$("go-available").addEventListener("click", () => setState("available"));
$("go-not-ready").addEventListener("click", () => setState("not_ready", $("not-ready-reason").value));
$("sign-out").addEventListener("click", async () => {
  await desk.call("POST", "/api/v1/agents/logout");
  signedOut("");
});

function signedOut(message) {
  if (desk.socket) desk.socket.close();
  offers.clear();
  conversations.clear();
  hideSoftphone();
  sessionStorage.removeItem(KEY);
  desk.token = null;
  $("workspace").hidden = true;
  $("sign-in-page").hidden = false;
  $("sign-in-error").textContent = message;
}

main();
