// One tag puts the chat window on a site's page:
//   <script src="https://NODE/pages/embed.js" data-site="airline"
//           data-identity="SIGNED-IDENTITY" async></script>
// It adds an <iframe> of NODE/chat (bottom corner, or inside the element named by
// data-target). The signed identity travels in the frame's URL fragment, which is
// never sent to a server, so it stays out of access logs.
// It also keeps the customer's chat (its id and token) for the frame, in this page's
// localStorage under a key per site: a browser that refuses storage to the frame, framed
// on another site (Safari, Firefox strict, a private window), still picks up the same
// chat after a reload. It answers only its own frame's window, from the node's origin.
(function embedChat() {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const data = script.dataset;
  const origin = new URL(script.src).origin;
  const query = new URLSearchParams();
  for (const name of ["site", "lang", "queue"]) if (data[name]) query.set(name, data[name]);
  const fragment = new URLSearchParams(data.identity ? { identity: data.identity } : {});
  fragment.set("store", "parent");  // this page keeps the chat for the frame (below)
  const frame = document.createElement("iframe");
  frame.src = `${origin}/chat?${query}#${fragment}`;
  // The frame learns this page's origin (to post to it alone) from its referrer where
  // the browser has no ancestorOrigins, even on a page whose own policy sends none.
  frame.referrerPolicy = "origin";
  frame.title = data.title || "Chat";
  frame.setAttribute("allow", "clipboard-write");
  frame.style.border = "0";
  const target = data.target && document.getElementById(data.target);
  if (target) {
    frame.style.width = "100%";
    frame.style.height = "100%";
    target.append(frame);
  } else {
    Object.assign(frame.style, {
      position: "fixed", insetBlockEnd: "1rem", insetInlineEnd: "1rem", width: "min(24rem, 95vw)",
      height: "min(36rem, 85vh)", boxShadow: "0 4px 24px rgba(0,0,0,.25)", borderRadius: "10px",
      zIndex: "2147483000", background: "#fff",
    });
    document.body.append(frame);
  }
  keepChatFor(frame, origin, data.site || "");

  // The frame's requests (chat-saved.js): get, put or forget the chat it is in.
  function keepChatFor(chatFrame, nodeOrigin, site) {
    const TAG = "switchboard-chat";
    const key = `switchboard-chat:${site}`;
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
    window.addEventListener("message", (event) => {
      if (event.origin !== nodeOrigin || event.source !== chatFrame.contentWindow) return;
      const asked = event.data;
      if (!asked || asked.type !== TAG || !["get", "put", "forget"].includes(asked.op)) return;
      let chat = null;
      try { chat = keep[asked.op](asked.chat); } catch (_) { /* this page's storage refused too */ }
      event.source.postMessage({ type: TAG, id: asked.id, chat }, nodeOrigin);
    });
  }
})();
