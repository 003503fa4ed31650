// One tag puts the chat window on a site's page:
//   <script src="https://NODE/pages/embed.js" data-site="airline"
//           data-identity="SIGNED-IDENTITY" async></script>
// It adds an <iframe> of NODE/chat (bottom corner, or inside the element named by
// data-target). The signed identity travels in the frame's URL fragment, which is
// never sent to a server, so it stays out of access logs.
(function embedChat() {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const data = script.dataset;
  const origin = new URL(script.src).origin;
  const query = new URLSearchParams();
  for (const name of ["site", "lang", "queue"]) if (data[name]) query.set(name, data[name]);
  const fragment = data.identity ? `#${new URLSearchParams({ identity: data.identity })}` : "";
  const frame = document.createElement("iframe");
  frame.src = `${origin}/chat?${query}${fragment}`;
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
})();
