// The HTTP API, as the pages call it: JSON in and out, an error message fit to show.

import { t } from "./i18n.js";

// request("POST", "/api/v1/...", { body, token, customerToken }) -> { ok, status, body }
export async function request(method, path, { body, token, customerToken } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (customerToken) headers["X-Customer-Token"] = customerToken;
  try {
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: answer };
  } catch (_) {
    return { ok: false, status: 0, body: {} };
  }
}

// What went wrong, in words a person can act on.
export function problem(answer) {
  if (answer.status === 0) return t("No connection to the server. Trying again may help.");
  if (answer.status === 429) return t("Too many requests. Please wait a moment and try again.");
  if (answer.status === 401) return t("Your session has ended. Please sign in again.");
  const message = answer.body && answer.body.message;
  return message || t("Something went wrong ({status}).", { status: answer.status });
}

// The message being sent, by its `client_message_id`: one id per message composed, the
// same again when the same text is sent again after a failure (the server may have kept
// it and only its answer been lost), so that the server keeps it once. A new text, or
// the server's answer (`sent`), starts a new message.
export class Outgoing {
  idFor(text) {
    if (!this.id || this.text !== text) Object.assign(this, { text, id: newMessageId() });
    return this.id;
  }

  sent() { this.id = null; this.text = null; }
}

// crypto.randomUUID needs a secure context (https, localhost); elsewhere random hex.
function newMessageId() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The WebSocket URL of an API path (same host, ws or wss).
export function socketUrl(path, query) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}?${new URLSearchParams(query)}`;
}
