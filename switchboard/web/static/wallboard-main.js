// The wallboard: the supervisor signs in, then the snapshots of
// /api/v1/wallboard/events (server-sent events read with fetch, the token in a header)
// are drawn as they come: region clocks, alerts, each queue's card, the per-region table.
// Each snapshot is handed on (`wallboard:snapshot`, window.lastSnapshot) to the
// supervisor's actions (wallboard-actions.js).

import { $, el, setText } from "./dom.js";

// The wallboard is written in English (docs/desktop.md), and so are its times: one page,
// one language. The browser's own locale would write them in its digits ("٠٧:٤٢:١٥ م"
// on an Arabic system) among English words.
const PAGE_LOCALE = document.documentElement.lang || "en";

let token = sessionStorage.getItem("wallboard-token");
let regions = [];
let clockTimer = null;

function seconds(s) {
  if (s === null || s === undefined) return "–";
  s = Math.round(s);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}`;
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

function levelClass(value, target) {
  if (value === null || value === undefined) return "";
  return value >= target ? "ok" : value >= target - 0.1 ? "warn" : "bad";
}

// A service level and, below its target, a mark that says so in more than colour.
function level(value, target) {
  const below = levelClass(value, target) === "warn" || levelClass(value, target) === "bad";
  return [percent(value), below
    ? el("span", { class: "below" }, el("span", { "aria-hidden": "true" }, " ▼"),
      el("span", { class: "visually-hidden" }, " below target"))
    : null];
}

// The alerts as they stand, each in its place: one already listed is updated there (its
// wait grows), one that ended goes, a new one is added; each says its level in words, not
// by colour alone. The list is no live region: a new alert is said once (#alerts-news).
function renderAlerts(alerts) {
  const list = $("alerts");
  // What an alert is about (everything but its words, which change as it goes on).
  const keyOf = (alert) => JSON.stringify(Object.entries(alert).filter(([name]) => name !== "message").sort());
  const shown = new Map([...list.children].map((item) => [item.dataset.key, item]));
  const wanted = new Set(alerts.map(keyOf));
  for (const [key, item] of shown) if (!wanted.has(key)) { item.remove(); shown.delete(key); }
  let next = list.firstElementChild;
  for (const alert of alerts) {
    const key = keyOf(alert);
    const known = shown.get(key);
    if (known) {
      setText(known.querySelector(".message"), alert.message);
      next = known.nextElementSibling;
      continue;
    }
    const levelName = alert.level === "critical" ? "critical" : "warning";
    const item = el("li", { class: alert.level, "data-kind": alert.kind, "data-key": key },
      el("span", { class: "level" }, levelName), el("span", { class: "message" }, alert.message));
    list.insertBefore(item, next);
    shown.set(key, item);
    const news = $("alerts-news");
    news.append(el("p", {}, `${levelName}: ${alert.message}`));
    while (news.children.length > 5) news.firstElementChild.remove();
  }
}

// A sign-in refused: said, and the fields it is about marked (aria-invalid, described by
// the error), the focus on the password to type again.
function loginError(message, fields) {
  $("login-error").textContent = message;
  for (const id of ["user", "password"]) {
    if (fields) $(id).setAttribute("aria-invalid", "true");
    else $(id).removeAttribute("aria-invalid");
  }
  if (fields) $("password").focus();
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  loginError("", false);
  const response = await fetch("/api/v1/agents/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ agent_id: $("user").value, password: $("password").value }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return loginError(body.message || "sign-in failed", true);
  if (!["supervisor", "admin"].includes(body.role)) return loginError("the wallboard is for supervisors", true);
  token = body.token;
  sessionStorage.setItem("wallboard-token", token);
  start();
});

function start() {
  $("login-page").hidden = true;
  $("board").hidden = false;
  if (!clockTimer) clockTimer = setInterval(renderClocks, 1000);
  stream();
}

function signOut(message) {
  sessionStorage.removeItem("wallboard-token");
  token = null;
  $("board").hidden = true;
  $("login-page").hidden = false;
  loginError(message, false);
}

// Server-sent events read with fetch, so the token travels in a header, not the URL.
async function stream() {
  let delay = 1000;
  while (token) {
    try {
      const response = await fetch("/api/v1/wallboard/events", {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (response.status === 401 || response.status === 403) {
        signOut("session expired or not a supervisor");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6)).join("\n");
          if (data) render(JSON.parse(data));
        }
      }
      $("status").textContent = "reconnecting…";
    } catch (failure) {
      $("status").textContent = `connection lost (${failure.message}); retrying`;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }
}

function renderClocks() {
  const clocks = $("clocks");
  clocks.replaceChildren(...regions.map((region) => {
    let time;
    try {
      time = new Intl.DateTimeFormat(PAGE_LOCALE, {
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: region.timezone,
      }).format(new Date());
    } catch (_) {
      time = region.local_time.slice(11, 19);
    }
    return el("div", { class: "clock", "data-region": region.region },
      el("span", { class: region.healthy ? "dot" : "dot down", "aria-hidden": "true" }),
      `${region.region} `,
      region.healthy ? el("span", { class: "visually-hidden" }, "up ") : el("span", { class: "down-text" }, "down "),
      el("b", {}, time),
      el("span", { class: "zone" }, ` ${region.timezone}${region.open ? "" : " · closed"}`));
  }));
}

function agentsLine(byState) {
  const order = ["available", "busy", "reserved", "wrap_up", "not_ready", "offline"];
  return order.filter((state) => byState[state])
    .map((state) => el("span", { "data-state": state }, `${state.replace("_", "-")} ${byState[state]}`));
}

// Customers who left before the queue's short_abandon_s: apart, in no rate.
function shortAbandons(count) {
  return count ? ` + ${count} short` : "";
}

function renderRegionTable(rows, queues) {
  const targets = Object.fromEntries(queues.map((q) => [q.queue, q.service_level_target]));
  $("regions-table").tBodies[0].replaceChildren(...rows.map((row) => {
    const target = targets[row.queue] ?? 0.8;
    return el("tr", { "data-region": row.region, "data-queue": row.queue },
      el("td", {}, row.region), el("td", {}, row.queue),
      el("td", { class: "waiting" }, String(row.waiting)),
      el("td", {}, String(row.closed)), el("td", {}, String(row.answered)),
      el("td", {}, `${row.abandoned} (${percent(row.abandonment_rate)})${shortAbandons(row.short_abandoned)}`),
      el("td", { class: levelClass(row.service_level_today, target) }, level(row.service_level_today, target)),
      el("td", { class: levelClass(row.service_level_30_min, target) }, level(row.service_level_30_min, target)),
      el("td", {}, seconds(row.asa_s)));
  }));
}

function render(snapshot) {
  window.lastSnapshot = snapshot;  // for the supervisor actions (wallboard-actions.js)
  document.dispatchEvent(new CustomEvent("wallboard:snapshot", { detail: snapshot }));
  regions = snapshot.regions;
  renderRegionTable(snapshot.by_region_and_queue, snapshot.queues);
  renderClocks();
  $("status").textContent = `updated ${new Date(snapshot.generated_at).toLocaleTimeString(PAGE_LOCALE)}`;
  $("agents-total").replaceChildren(...agentsLine(snapshot.agents.by_state));
  renderAlerts(snapshot.alerts);
  $("queues").replaceChildren(...snapshot.queues.map((q) => {
    const target = q.service_level_target;
    const split = Object.entries(q.waiting_by_region).map(([r, n]) => `${r} ${n}`).join(" · ");
    return el("section", { class: "queue", id: `queue-${q.queue}` },
      el("h2", {}, q.queue, el("span", { class: "label" }, `target ${percent(target)} in ${q.answer_within_s}s`)),
      el("div", { class: "big" },
        el("div", {}, el("div", { class: "value", id: `waiting-${q.queue}`, "data-testid": "waiting" },
          String(q.waiting)), el("div", { class: "label" }, "waiting")),
        el("div", {}, el("div", { class: "value" }, seconds(q.longest_wait_s)),
          el("div", { class: "label" }, "longest")),
        el("div", {}, el("div", { class: "value" }, q.serving_agents ? seconds(q.ewt_s) : "–"),
          el("div", { class: "label" }, q.serving_agents ? "EWT" : "EWT: no agent serving"))),
      el("div", { class: "row" }, el("span", { class: "label" }, "by region"), split || "–"),
      el("div", { class: "row" }, el("span", { class: "label" }, "SL today / 30 min"),
        el("span", {},
          el("b", { class: levelClass(q.today.service_level, target) }, level(q.today.service_level, target)),
          " / ",
          el("b", { class: levelClass(q.last_30_min.service_level, target) },
            level(q.last_30_min.service_level, target)))),
      el("div", { class: "row" }, el("span", { class: "label" }, "callbacks due"),
        el("span", { "data-testid": "callbacks-due" }, String(q.callbacks_due))),
      el("div", { class: "row" }, el("span", { class: "label" }, "abandoned today"),
        `${q.today.abandoned} (${percent(q.today.abandonment_rate)})${shortAbandons(q.today.short_abandoned)}`),
      el("div", { class: "row" }, el("span", { class: "label" }, "occupancy now"),
        percent(q.occupancy)),
      el("div", { class: "row agents" }, el("span", { class: "label" }, "agents"),
        el("span", {}, ...agentsLine(q.agents_by_state))));
  }));
}

if (token) start();
