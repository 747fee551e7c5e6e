/*! crmlink.js: open CRM Link (the end user's mapping page) in a modal on your own page.
 *
 *   <script src="https://crmlink.example.com/link/crmlink.js"></script>
 *   crmlink.linkCRM("https://crmlink.example.com", token, {connectionID: "acme"})
 *     .then((connectionID) => ...)        // the end user saved their mapping
 *     .catch((error) => ...)              // they closed it; error.message says why
 *
 * `token` comes from POST /api/v1/crm/{connectionID}/link-token, called by your server.
 * No dependencies, no build step. Works in every evergreen browser.
 */
(function () {
  "use strict";

  var CLOSED = "Modal was closed without finishing the mapping.";
  var current = document.currentScript;
  var scriptBase = current && current.src ? new URL("..", current.src).href : null;
  var open = null; // the modal currently shown, if any

  function pageUrl(baseUrl) {
    var base = new URL(baseUrl || scriptBase || "/", window.location.href);
    var href = base.href.replace(/\/+$/, "");
    return new URL(href + "/link/");
  }

  function style(el, css) {
    for (var key in css) el.style.setProperty(key, css[key]);
    return el;
  }

  function linkCRM(baseUrl, token, options) {
    options = options || {};
    return new Promise(function (resolve, reject) {
      if (typeof token !== "string" || !token) {
        reject(new Error("linkCRM needs a link token: ask your server for one (POST /api/v1/crm/{connectionID}/link-token)."));
        return;
      }
      if (open) {
        reject(new Error("CRM Link is already open."));
        return;
      }
      var url = pageUrl(baseUrl);
      var origin = url.origin;
      var params = new URLSearchParams();
      params.set("token", token);
      params.set("origin", window.location.origin);
      if (options.connectionID) params.set("connection", String(options.connectionID));
      if (options.objects) params.set("definition", "1");
      url.hash = params.toString();

      var previousFocus = document.activeElement;
      var overlay = style(document.createElement("div"), {
        position: "fixed", inset: "0", "z-index": "2147483000", display: "flex",
        "align-items": "center", "justify-content": "center",
        background: "rgba(15, 23, 42, 0.55)", padding: "0", margin: "0",
      });
      overlay.setAttribute("data-crmlink-modal", "");
      var wide = window.innerWidth > 700;
      var dialog = style(document.createElement("div"), {
        width: wide ? "min(980px, calc(100vw - 48px))" : "100vw",
        height: wide ? "min(900px, calc(100vh - 48px))" : "100vh", display: "flex",
        background: "#fff", "border-radius": wide ? "12px" : "0",
        overflow: "hidden", "box-shadow": "0 24px 64px rgba(0,0,0,0.35)",
      });
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-modal", "true");
      dialog.setAttribute("aria-label", "CRM Link: connect and map your CRM");
      var iframe = style(document.createElement("iframe"), {
        border: "0", width: "100%", height: "100%", display: "block",
      });
      iframe.title = "CRM Link: connect and map your CRM";
      iframe.src = url.href;
      iframe.setAttribute("referrerpolicy", "no-referrer");
      // Focus sentinels: Tab past either end of the page comes back into it.
      function sentinel() {
        var s = document.createElement("span");
        s.tabIndex = 0;
        s.setAttribute("aria-hidden", "true");
        s.addEventListener("focus", function () { iframe.focus(); });
        return s;
      }
      dialog.appendChild(iframe);
      overlay.appendChild(sentinel());
      overlay.appendChild(dialog);
      overlay.appendChild(sentinel());

      // Everything else on the host page is inert while the modal is open.
      var madeInert = [];
      Array.prototype.forEach.call(document.body.children, function (el) {
        if (el !== overlay && !el.inert) { el.inert = true; madeInert.push(el); }
      });
      var overflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden";
      document.body.appendChild(overlay);
      iframe.addEventListener("load", function () { iframe.focus(); });
      iframe.focus();

      function finish() {
        window.removeEventListener("message", onMessage);
        document.removeEventListener("keydown", onKey, true);
        madeInert.forEach(function (el) { el.inert = false; });
        document.documentElement.style.overflow = overflow;
        open = null;
        // Focus leaves the frame first and the frame goes a moment later, so that the rest of a
        // key press or click that closed it (e.g. the keyup of Escape) never lands in a frame
        // being torn down.
        overlay.style.display = "none";
        if (previousFocus && typeof previousFocus.focus === "function") previousFocus.focus();
        setTimeout(function () { overlay.remove(); }, 250);
      }
      function close(reason) {
        finish();
        reject(new Error(reason || CLOSED));
      }
      function onKey(event) {
        if (event.key === "Escape") { event.preventDefault(); close(); }
      }
      function onMessage(event) {
        if (event.origin !== origin || event.source !== iframe.contentWindow) return;
        var data = event.data;
        if (!data || data.source !== "crmlink") return;
        if (data.type === "ready" && options.objects) {
          iframe.contentWindow.postMessage(
            { source: "crmlink-host", type: "definition", objects: options.objects }, origin);
        } else if (data.type === "finished") {
          finish();
          resolve(data.connectionID);
        } else if (data.type === "close") {
          close(data.reason);
        }
      }
      window.addEventListener("message", onMessage);
      document.addEventListener("keydown", onKey, true);
      open = { close: close };
    });
  }

  window.crmlink = window.crmlink || {};
  window.crmlink.linkCRM = linkCRM;
  window.crmlink.closeCRMLink = function () { if (open) open.close(); };
})();
