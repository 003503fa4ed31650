// The supervisor's actions on the wallboard: the agents of a queue with their state and
// time in state, set one not ready (with a reason) or sign them out; the queue's live
// contacts (a call on hold says so), move a waiting one to another queue, read a chat
// live, join a call in progress on the supervisor's softphone (listen, whisper, barge)
// and leave it; look up any contact of their queues by id and play its call recording
// back. Every action is
// the HTTP API's (and audited there); this file only shows and asks.

import { problem, request, socketUrl } from "./api.js";
import { $, el, options } from "./dom.js";
import { duration } from "./i18n.js";
import { LiveSocket } from "./socket.js";

const token = () => sessionStorage.getItem("wallboard-token");
const call = (method, path, body) => request(method, path, { body, token: token() });
let snapshot = null;
let waitingSeen = null;
let reading = null;  // { contactId, socket }

function say(text) { $("sv-message").textContent = text; }

async function loadReasons() {
  const answer = await call("GET", "/api/v1/desk");
  if (answer.ok) options($("sv-reason"), answer.body.not_ready_reasons);
}

function onSnapshot(next) {
  const first = snapshot === null;
  snapshot = next;
  const chosen = $("sv-queue").value;
  const names = next.queues.map((q) => q.queue);
  if (first || names.join() !== [...$("sv-queue").options].map((o) => o.value).join()) {
    options($("sv-queue"), names, chosen || names[0]);
  }
  if (first) loadReasons();
  renderAgents();
  const queue = next.queues.find((q) => q.queue === $("sv-queue").value);
  if (queue && queue.waiting !== waitingSeen) { waitingSeen = queue.waiting; loadContacts(); }
}

// An agent's state as the supervisor reads it: the routing state, and "not ready" beside
// it for one who went not ready while still holding chats or calls (busy, not ready).
function stateText(agent) {
  const aside = agent.presence === "not_ready" && agent.state !== "not_ready" ? ", not ready" : "";
  return agent.state.replace("_", "-") + aside + (agent.reason ? ` (${agent.reason})` : "");
}

function renderAgents() {
  if (!snapshot) return;
  const queue = $("sv-queue").value;
  const agents = snapshot.agents.list.filter((agent) => agent.queues.includes(queue));
  $("agents-table").tBodies[0].replaceChildren(...agents.map((agent) => {
    const load = Object.entries(agent.load || {}).filter(([, n]) => n).map(([c, n]) => `${c} ${n}`).join(", ");
    const online = agent.state !== "offline";
    const alreadyNotReady = agent.state === "not_ready" || agent.presence === "not_ready";
    return el("tr", { "data-agent": agent.agent_id },
      el("td", {}, agent.agent_id), el("td", {}, agent.region),
      el("td", { class: "state" }, stateText(agent)),
      el("td", { class: "since", "data-since": agent.since || "" }, since(agent.since)),
      el("td", {}, load || "–"),
      el("td", {},
        online && !alreadyNotReady
          ? el("button", { type: "button", class: "not-ready", onclick: () => notReady(agent.agent_id) }, "Set not ready")
          : null,
        online ? [" ", el("button", { type: "button", class: "log-out", onclick: () => logOut(agent.agent_id) }, "Log out")] : null));
  }));
}

function since(iso) {
  return iso ? duration((Date.now() - Date.parse(iso)) / 1000) : "–";
}

setInterval(() => {
  for (const cell of document.querySelectorAll("#agents-table td.since")) cell.textContent = since(cell.dataset.since);
  for (const cell of document.querySelectorAll("#contacts-table td.waited")) {
    cell.textContent = cell.dataset.from ? duration((Date.now() - Number(cell.dataset.from)) / 1000) : "–";
  }
}, 1000);

async function notReady(agentId) {
  const reason = $("sv-reason").value;
  const answer = await call("PUT", `/api/v1/agents/${encodeURIComponent(agentId)}/state`, { state: "not_ready", reason });
  say(answer.ok ? `${agentId} is now not ready (${reason})` : problem(answer));
}

async function logOut(agentId) {
  const answer = await call("POST", `/api/v1/agents/${encodeURIComponent(agentId)}/logout`);
  say(answer.ok ? `${agentId} was signed out` : problem(answer));
}

async function loadContacts() {
  const queue = $("sv-queue").value;
  if (!queue) return;
  const answer = await call("GET", `/api/v1/queues/${encodeURIComponent(queue)}/contacts`);
  if (!answer.ok) { say(problem(answer)); return; }
  const others = snapshot ? snapshot.queues.map((q) => q.queue).filter((name) => name !== queue) : [];
  $("contacts-table").tBodies[0].replaceChildren(...answer.body.contacts.map((contact) => {
    const from = Date.parse((contact.timestamps || {}).queued_at || "") || 0;
    const target = el("select", { class: "move-to", "aria-label": `Queue to move ${contact.contact_id} to` });
    options(target, others);
    return el("tr", { "data-contact": contact.contact_id },
      el("td", {}, contact.contact_id.slice(0, 8)), el("td", {}, contact.channel),
      el("td", { class: "state" }, contact.on_hold_since ? `${contact.state}, on hold` : contact.state),
      el("td", { class: "waited", "data-from": from || "" }, "–"),
      el("td", {}, contact.language), el("td", {}, contact.agent_id || "–"),
      el("td", {},
        contact.state === "queued" && others.length
          ? [target, " ", el("button", { type: "button", class: "move", onclick: () => move(contact.contact_id, target.value) }, "Move")]
          : null,
        contact.channel === "chat"
          ? [" ", el("button", { type: "button", class: "read", onclick: () => read(contact.contact_id) }, "Read chat")]
          : null,
        contact.channel === "chat" && contact.state === "queued"
          ? [" ", el("button", { type: "button", class: "end", onclick: () => endWaiting(contact.contact_id) }, "End chat")]
          : null,
        contact.channel === "voice" && contact.state === "connected"
          ? [" ", el("button", { type: "button", class: "join", onclick: () => join(contact.contact_id) }, "Join call"),
            " ", el("button", { type: "button", class: "leave", onclick: () => leave(contact.contact_id) }, "Leave call")]
          : null));
  }));
}

// The supervisor's softphone rings and joins the call in the chosen mode; joining again
// with another mode changes it.
async function join(contactId) {
  const phone = $("sv-phone").value.trim();
  if (!phone) { say("Enter your softphone's SIP address first"); $("sv-phone").focus(); return; }
  sessionStorage.setItem("wallboard-phone", phone);
  const mode = $("sv-mode").value;
  const answer = await call("PUT", `/api/v1/contacts/${contactId}/monitor`, { mode, phone });
  say(answer.ok ? `joining ${contactId.slice(0, 8)} to ${mode}: your softphone rings` : problem(answer));
}

async function leave(contactId) {
  const answer = await call("DELETE", `/api/v1/contacts/${contactId}/monitor`);
  say(answer.ok ? `left the call ${contactId.slice(0, 8)}` : problem(answer));
}

async function move(contactId, queue) {
  const answer = await call("POST", `/api/v1/contacts/${contactId}/move`, { queue });
  say(answer.ok ? `moved to ${queue}` : problem(answer));
  loadContacts();
}

// A waiting chat nobody will take (a back-office chat, a test) ends, failed, once the
// supervisor confirms: its customer is not served.
async function endWaiting(contactId) {
  if (!confirm(`End chat ${contactId.slice(0, 8)}? Nobody will serve it.`)) return;
  const answer = await call("POST", `/api/v1/contacts/${contactId}/complete`);
  say(answer.ok ? `ended ${contactId.slice(0, 8)}` : problem(answer));
  loadContacts();
}

// A chat read live: each message as it comes, and on every (re)connection what was said
// so far, merged by id (a message sent while the socket was connecting is not lost).
function read(contactId) {
  if (reading) reading.socket.close();
  const list = $("transcript-messages");
  list.replaceChildren();
  $("transcript").hidden = false;
  $("transcript-title").textContent = `Live chat ${contactId.slice(0, 8)}`;
  let messages = new Map();  // message_id -> message, in the order shown
  const item = (message) => {
    const translated = Object.values(message.translations || {})[0];
    return el("li", {}, el("span", { class: "who" }, message.sender), message.text,
      translated ? el("span", { class: "who" }, ` (${translated})`) : null);
  };
  const live = (event) => {
    if (event.type !== "message" || messages.has(event.message_id)) return;
    messages.set(event.message_id, event);
    list.append(item(event));
  };
  const soFar = async () => {
    const answer = await call("GET", `/api/v1/contacts/${contactId}/messages`);
    if (reading?.contactId !== contactId) return;  // another chat was opened meanwhile
    if (!answer.ok) { say(problem(answer)); return; }
    const merged = new Map(answer.body.messages.map((message) => [message.message_id, message]));
    for (const [id, message] of messages) if (!merged.has(id)) merged.set(id, message);
    messages = merged;
    list.replaceChildren(...[...messages.values()].map(item));
  };
  reading = {
    contactId,
    socket: new LiveSocket(socketUrl(`/api/v1/contacts/${contactId}/events`, { token: token() }), {
      onEvent: live,
      onOpen: soFar,
    }),
  };
}

// A contact by id (of one of the supervisor's queues): how it went, why it was routed
// where it was, and its recording when the call was recorded on this node.
async function lookUp(contactId) {
  $("sv-found").hidden = true;
  dropRecording();
  const answer = await call("GET", `/api/v1/contacts/${encodeURIComponent(contactId)}`);
  if (!answer.ok) { say(problem(answer)); return; }
  const contact = answer.body;
  const outcome = contact.outcome ? `${contact.outcome}${contact.reason ? ` (${contact.reason})` : ""}` : contact.state;
  $("sv-found-summary").textContent = `${contact.channel} in ${contact.queue}, ${outcome}` +
    (contact.agent_id ? `, agent ${contact.agent_id}` : "") +
    ((contact.recordings || []).length ? `, ${contact.recordings.length} recording(s)` : ", not recorded");
  $("sv-found-explanation").replaceChildren(...(contact.explanation || []).map((line) => el("li", {}, line)));
  $("sv-play").hidden = !(contact.recordings || []).length;
  $("sv-play").dataset.contact = contact.contact_id;
  $("sv-found").hidden = false;
  say("");
}

// The recording shown goes, and the memory its blob: URL holds (the whole WAV) with it.
function dropRecording() {
  const audio = $("sv-audio");
  audio.hidden = true;
  if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
  audio.removeAttribute("src");
}

// The recording comes through the API with the session's token (an audio element cannot
// send one), then plays from memory; the node audits the playback.
async function play(contactId) {
  let response;
  try {
    response = await fetch(`/api/v1/contacts/${encodeURIComponent(contactId)}/recording`,
      { headers: { Authorization: `Bearer ${token()}` } });
  } catch (_) {
    say(problem({ status: 0 }));
    return;
  }
  if (!response.ok) {
    say(problem({ status: response.status, body: await response.json().catch(() => ({})) }));
    return;
  }
  const blob = await response.blob();
  dropRecording();
  const audio = $("sv-audio");
  audio.src = URL.createObjectURL(blob);
  audio.hidden = false;
  audio.play().catch(() => {});  // a browser that blocks autoplay still shows the controls
  say(`playing the recording of ${contactId.slice(0, 8)}`);
}

$("sv-lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  lookUp($("sv-contact").value.trim());
});
$("sv-play").addEventListener("click", () => play($("sv-play").dataset.contact));
$("transcript-close").addEventListener("click", () => {
  if (reading) reading.socket.close();
  reading = null;
  $("transcript").hidden = true;
});
$("sv-queue").addEventListener("change", () => { renderAgents(); loadContacts(); });
$("sv-refresh").addEventListener("click", loadContacts);
$("sv-phone").value = sessionStorage.getItem("wallboard-phone") || "";
document.addEventListener("wallboard:snapshot", (event) => onSnapshot(event.detail));
if (window.lastSnapshot) onSnapshot(window.lastSnapshot);
