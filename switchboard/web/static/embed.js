// One tag puts the chat window on a site's page:
//   <script src="https://NODE/pages/embed.js" data-site="airline"
//           data-identity="SIGNED-IDENTITY" async></script>
// It adds an <iframe> of NODE/chat inside the element named by data-target, or, without
// one, a launcher button in the bottom corner that opens the chat window over the page.
// The window stays closed (nothing of the page covered) until the customer opens it; its
// "Minimise chat" button, or Escape, closes it and puts the focus back on the launcher,
// and the chat goes on in the closed frame (reopened as it was). On a narrow screen
// (a phone, a page zoomed in) the open window takes the whole screen as a modal: the
// page behind it is inert until it closes. The launcher and the frame are named in the
// chat's language, which the frame tells (or data-label / data-title).
// The signed identity travels in the frame's URL fragment, which is never sent to a
// server, so it stays out of access logs.
// It also keeps the customer's chat (its id and token) for the frame, in this page's
// localStorage under a key per site: a browser that refuses storage to the frame, framed
// on another site (Safari, Firefox strict, a private window), still picks up the same
// chat after a reload. It answers only its own frame's window, from the node's origin.
(function embedChat() {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const TAG = "switchboard-chat";
  const data = script.dataset;
  const site = data.site || "";
  const origin = new URL(script.src).origin;
  const query = new URLSearchParams();
  for (const name of ["site", "lang", "queue"]) if (data[name]) query.set(name, data[name]);
  const fragment = new URLSearchParams(data.identity ? { identity: data.identity } : {});
  fragment.set("store", "parent");  // this page keeps the chat for the frame (below)
  const target = data.target && document.getElementById(data.target);
  if (!target) fragment.set("window", "closable");  // the frame shows "Minimise chat"
  const frame = document.createElement("iframe");
  frame.src = `${origin}/chat?${query}#${fragment}`;
  // The frame learns this page's origin (to post to it alone) from its referrer where
  // the browser has no ancestorOrigins, even on a page whose own policy sends none.
  frame.referrerPolicy = "origin";
  frame.title = data.title || "Chat";
  frame.id = `switchboard-chat-${site || "window"}`;
  frame.setAttribute("allow", "clipboard-write");
  frame.style.border = "0";
  const windowed = target ? null : floatingWindow(frame);
  if (target) {
    frame.style.width = "100%";
    frame.style.height = "100%";
    target.append(frame);
  }
  keepChatFor(frame, origin, site, windowed);

  // The launcher and the window it opens (no data-target). Styled through the element's
  // style (CSSOM), which a site's Content-Security-Policy without 'unsafe-inline' allows.
  function floatingWindow(chatFrame) {
    const openKey = `switchboard-chat-open:${site}`;
    const narrow = window.matchMedia("(max-width: 30rem), (max-height: 30rem)");
    const launcher = document.createElement("button");
    launcher.type = "button";
    launcher.hidden = true;  // shown once the frame has loaded and named it
    launcher.textContent = data.label || "Chat";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", chatFrame.id);
    Object.assign(launcher.style, {
      position: "fixed", insetBlockEnd: "1rem", insetInlineEnd: "1rem", zIndex: "2147483000",
      padding: ".6rem 1.1rem", borderRadius: "2rem", border: "2px solid #fff", background: "#0b5cad",
      color: "#fff", font: "600 1rem/1.2 system-ui, sans-serif", cursor: "pointer",
      boxShadow: "0 2px 10px rgba(0,0,0,.35)",
    });
    Object.assign(chatFrame.style, { position: "fixed", display: "none", zIndex: "2147483001",
      background: "#fff", boxShadow: "0 4px 24px rgba(0,0,0,.25)" });
    let inerted = [];  // what the modal (narrow) window made inert, to give back
    const state = {
      open: false,
      show(open, { focus = true, remember = true } = {}) {
        state.open = open;
        launcher.setAttribute("aria-expanded", String(open));
        chatFrame.style.display = open ? "block" : "none";
        if (remember) {
          try { sessionStorage.setItem(openKey, open ? "1" : ""); } catch (_) { /* not kept */ }
        }
        place();
        if (!focus) return;
        if (open) {
          chatFrame.focus();
          chatFrame.contentWindow.postMessage({ type: TAG, op: "opened" }, origin);
        } else {
          launcher.focus();
        }
      },
      named(label, title, lang, dir) {
        if (!data.label && label) launcher.textContent = label;
        if (!data.title && title) chatFrame.title = title;
        if (lang) launcher.lang = lang;
        if (dir === "ltr" || dir === "rtl") launcher.dir = dir;
        if (launcher.hidden) {
          launcher.hidden = false;
          let wasOpen = false;
          try { wasOpen = sessionStorage.getItem(openKey) === "1"; } catch (_) { /* not kept */ }
          if (wasOpen) state.show(true, { focus: false, remember: false });
        }
      },
    };
    // Open in a corner above the launcher, or (narrow) the whole screen, the page inert.
    function place() {
      const full = state.open && narrow.matches;
      Object.assign(chatFrame.style, full
        ? { insetBlockEnd: "0", insetInlineEnd: "0", width: "100vw", height: "100dvh", borderRadius: "0" }
        : { insetBlockEnd: "4.5rem", insetInlineEnd: "1rem", width: "min(24rem, calc(100vw - 2rem))",
          height: "min(36rem, calc(100dvh - 6rem))", borderRadius: "10px" });
      for (const node of inerted) node.inert = false;
      inerted = full ? [...document.body.children].filter((node) => node !== chatFrame && !node.inert) : [];
      for (const node of inerted) node.inert = true;
    }
    narrow.addEventListener("change", place);
    launcher.addEventListener("click", () => state.show(!state.open));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && state.open) state.show(false);
    });
    document.body.append(launcher, chatFrame);
    return state;
  }

  // The frame's requests (chat-saved.js): get, put or forget the chat it is in; and
  // (chat-embedded.js) its name in the chat's language ("ready") and "close".
  function keepChatFor(chatFrame, nodeOrigin, siteName, floating) {
    const key = `switchboard-chat:${siteName}`;
    const keep = {
      get: () => JSON.parse(localStorage.getItem(key) || "null"),
      put: (chat) => {
        const { contact_id: contactId, customer_token: token, language } = chat || {};
        if (typeof contactId !== "string" || typeof token !== "string") return null;
        localStorage.setItem(key, JSON.stringify({ contact_id: contactId, customer_token: token,
          language: typeof language === "string" ? language : undefined }));
        return null;
      },
      forget: () => { localStorage.removeItem(key); return null; },
    };
    const text = (value) => (typeof value === "string" ? value.slice(0, 200) : "");
    window.addEventListener("message", (event) => {
      if (event.origin !== nodeOrigin || event.source !== chatFrame.contentWindow) return;
      const asked = event.data;
      if (!asked || asked.type !== TAG) return;
      if (asked.op === "ready") {
        if (floating) floating.named(text(asked.label), text(asked.title), text(asked.lang), text(asked.dir));
        else if (!data.title && text(asked.title)) chatFrame.title = text(asked.title);
        return;
      }
      if (asked.op === "close") {
        if (floating && floating.open) floating.show(false);
        return;
      }
      if (!["get", "put", "forget"].includes(asked.op)) return;
      let chat = null;
      try { chat = keep[asked.op](asked.chat); } catch (_) { /* this page's storage refused too */ }
      event.source.postMessage({ type: TAG, id: asked.id, chat }, nodeOrigin);
    });
  }
})();
