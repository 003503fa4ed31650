// The agent's softphone account (server, user, domain, password), as the node's
// registrar knows it: shown so that the agent sets their softphone up with it. Hidden
// when the node has no registrar ([sip] front_door = "none": sign in with a SIP URI).

import { $ } from "./dom.js";

export async function showSoftphone(desk) {
  $("softphone").hidden = true;
  if (!desk.config.sip_accounts) return;  // a node without a registrar: no account to ask for
  const agentId = encodeURIComponent(desk.agent.agent_id);
  const answer = await desk.call("GET", `/api/v1/agents/${agentId}/sip-account`);
  $("softphone").hidden = !answer.ok;
  if (!answer.ok) return;
  const account = answer.body;
  $("sip-server").textContent = account.server;
  $("sip-transport").textContent = account.transports.map((t) => t.toUpperCase()).join(" / ");
  $("sip-user").textContent = account.user;
  $("sip-domain").textContent = account.domain;
  $("sip-password").textContent = account.password;
}

export function hideSoftphone() {
  $("softphone").hidden = true;
  $("sip-password").textContent = "";
}
